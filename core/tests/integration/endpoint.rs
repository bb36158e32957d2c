//! The endpoint's path matching, methods, HEAD and request metrics.

use gds_metrics::{
    collapse_ids, Config, Endpoint, FinishedRequest, Format, Opts, RaisedException, Registry, Request, Route,
};
use std::sync::Arc;

fn endpoint(path: Option<&str>) -> Endpoint {
    let mut builder = Config::builder();
    if let Some(path) = path {
        builder = builder.metrics_path(path);
    }
    Endpoint::new(
        builder.build_with_env(|_| None).unwrap(),
        Arc::new(Registry::new()),
    )
    .unwrap()
}

#[test]
fn only_the_exact_configured_path_matches() {
    let endpoint = endpoint(None);
    assert!(endpoint.matches("/metrics"));
    assert!(endpoint.matches("/metrics?cf_app_guid=x"));
    for path in [
        "/metrics/",
        "/Metrics",
        "/metrics.json",
        "/",
        "",
        "/metricsx",
        "/other/metrics",
    ] {
        assert!(!endpoint.matches(path), "{path}");
    }
    let custom = self::endpoint(Some("/internal/prometheus"));
    assert!(custom.matches("/internal/prometheus"));
    assert!(!custom.matches("/metrics"));
}

#[test]
fn other_methods_get_405_with_allow() {
    let endpoint = endpoint(None);
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "BREW"] {
        let response = endpoint.handle(&Request::new(method, "/metrics"));
        assert_eq!(response.status, 405, "{method}");
        assert_eq!(response.header("allow"), Some("GET, HEAD"));
        assert_eq!(
            String::from_utf8(response.body).unwrap(),
            "Method not allowed: use GET or HEAD.\n"
        );
    }
}

#[test]
fn head_answers_the_headers_of_get_without_a_body() {
    let endpoint = endpoint(None);
    let head = endpoint.handle(&Request::new("HEAD", "/metrics").header("accept-encoding", b"gzip"));
    let get = endpoint.handle(&Request::new("GET", "/metrics").header("accept-encoding", b"gzip"));
    assert_eq!(head.status, 200);
    assert_eq!(head.headers, get.headers);
    assert!(head.body.is_empty());
    assert!(!get.body.is_empty());
}

#[test]
fn a_path_that_is_not_the_endpoints_gets_404_and_is_not_recorded() {
    let endpoint = endpoint(None);
    let response = endpoint.handle(&Request::new("GET", "/users/1"));
    assert_eq!(response.status, 404);
    let mut series = 0;
    endpoint.request_metrics().requests().for_each(|_, _| series += 1);
    assert_eq!(series, 0);
}

#[test]
fn scrapes_are_recorded_under_the_metrics_path_with_host_as_sent() {
    let endpoint = endpoint(None);
    endpoint.handle(&Request::new("GET", "/metrics").header("HOST", b"My-App.example:8080"));
    endpoint.handle(&Request::new("POST", "/metrics"));
    let requests = endpoint.request_metrics().requests();
    assert_eq!(
        requests
            .labels(&["GET", "My-App.example:8080", "/metrics", "200"])
            .unwrap()
            .get(),
        1.0
    );
    assert_eq!(
        requests.labels(&["POST", "", "/metrics", "405"]).unwrap().get(),
        1.0
    );
}

#[test]
fn request_metrics_render_with_contract_names_labels_and_buckets() {
    let endpoint = endpoint(None);
    let request = |method, route, status, seconds, exception| FinishedRequest {
        method,
        host: b"app.example",
        raw_path: "/users/7",
        route,
        status,
        seconds,
        exception,
        traceparent: b"",
    };
    endpoint.record(&request(
        "get",
        Route::Template("/users/<int:id>"),
        200,
        0.3,
        None,
    ));
    endpoint.record(&request("GET", Route::NoMatch, 404, 0.001, None));
    let raised = RaisedException {
        class_name: Some("ZeroDivisionError"),
        named_ancestor: None,
        escaped: false,
    };
    endpoint.record(&request("GET", Route::NoMatch, 404, 0.001, Some(raised)));
    let text = endpoint.registry().render(Format::Text);
    let expected_lines = [
        "# TYPE http_server_requests_total counter",
        "http_server_requests_total{method=\"GET\",host=\"app.example\",path=\"/users/<int:id>\",code=\"200\"} 1.0",
        "http_server_requests_total{method=\"GET\",host=\"app.example\",path=\"No endpoint\",code=\"404\"} 2.0",
        "# TYPE http_server_request_duration_seconds histogram",
        "http_server_request_duration_seconds_bucket{method=\"GET\",host=\"app.example\",path=\"/users/<int:id>\",code=\"200\",le=\"0.25\"} 0.0",
        "http_server_request_duration_seconds_bucket{method=\"GET\",host=\"app.example\",path=\"/users/<int:id>\",code=\"200\",le=\"0.5\"} 1.0",
        "http_server_request_duration_seconds_count{method=\"GET\",host=\"app.example\",path=\"/users/<int:id>\",code=\"200\"} 1.0",
        "# TYPE http_server_exceptions_total counter",
    ];
    assert!(
        !text.contains("ZeroDivisionError"),
        "an exception the app turned into a 404 is not counted:\n{text}"
    );
    for line in expected_lines {
        assert!(text.lines().any(|l| l == line), "missing `{line}` in\n{text}");
    }
    let bounds: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("http_server_request_duration_seconds_bucket") && l.contains("No endpoint"))
        .map(|l| l.split("le=\"").nth(1).unwrap().split('"').next().unwrap())
        .collect();
    assert_eq!(
        bounds,
        [
            "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0",
            "7.5", "10.0", "+Inf"
        ]
    );
}

#[test]
fn endpoints_on_one_registry_share_its_request_metrics_with_their_own_settings() {
    let registry = Arc::new(Registry::new());
    let open = Config::builder().build_with_env(|_| None).unwrap();
    let guarded = Config::builder()
        .application_id("6b0b3c4e")
        .build_with_env(|_| None)
        .unwrap();
    let first = Endpoint::new(open, registry.clone()).unwrap();
    let second = Endpoint::new(guarded, registry.clone()).unwrap();
    assert_eq!(first.handle(&Request::new("GET", "/metrics")).status, 200);
    assert_eq!(second.handle(&Request::new("GET", "/metrics")).status, 401);
    let text = registry.render(Format::Text);
    assert!(text.contains("code=\"200\"} 1.0\n"), "{text}");
    assert!(text.contains("code=\"401\"} 1.0\n"), "{text}");
}

#[test]
fn an_app_family_with_a_request_metric_name_is_a_duplicate_error() {
    let registry = Arc::new(Registry::new());
    registry
        .counter(Opts::new("http_server_requests_total", "Mine."))
        .unwrap();
    let config = Config::builder().build_with_env(|_| None).unwrap();
    let error = Endpoint::new(config, registry).unwrap_err();
    assert_eq!(
        error,
        gds_metrics::Error::Duplicate {
            name: "http_server_requests".into()
        }
    );
}

#[test]
fn collapse_ids_leaves_route_like_paths_alone() {
    assert_eq!(collapse_ids("/orders/2024/items/7"), "/orders/:id/items/:id");
    assert_eq!(collapse_ids("/"), "/");
}

#[test]
fn invented_methods_are_recorded_as_other() {
    let endpoint = endpoint(None);
    endpoint.handle(&Request::new("BREW", "/metrics"));
    endpoint.handle(&Request::new("X-RANDOM-1", "/metrics"));
    let requests = endpoint.request_metrics().requests();
    assert_eq!(
        requests.labels(&["OTHER", "", "/metrics", "405"]).unwrap().get(),
        2.0
    );
}

#[test]
fn an_endpoint_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Endpoint>();
    let endpoint = Arc::new(endpoint(None));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let endpoint = endpoint.clone();
            std::thread::spawn(move || endpoint.handle(&Request::new("GET", "/metrics")).status)
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 200);
    }
    let requests = endpoint.request_metrics().requests();
    assert_eq!(
        requests.labels(&["GET", "", "/metrics", "200"]).unwrap().get(),
        4.0
    );
}

#[test]
fn in_multi_process_mode_scrapes_are_recorded_in_the_shared_directory() {
    let dir = std::env::temp_dir().join(format!("gds-metrics-endpoint-mp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = gds_metrics::MultiProcess::open(&dir).unwrap();
    let registry = Arc::new(Registry::multiprocess(store));
    let config = Config::builder().build_with_env(|_| None).unwrap();
    let endpoint = Endpoint::new(config, registry).unwrap();
    endpoint.handle(&Request::new("GET", "/metrics").header("host", b"app.example"));
    let body = String::from_utf8(endpoint.handle(&Request::new("GET", "/metrics")).body).unwrap();
    let line =
        "http_server_requests_total{method=\"GET\",host=\"app.example\",path=\"/metrics\",code=\"200\"} 1.0";
    assert!(body.lines().any(|l| l == line), "missing `{line}` in\n{body}");
    drop(endpoint);
    let _ = std::fs::remove_dir_all(&dir);
}

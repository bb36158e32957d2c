//! The Open Service Broker API against a real broker process on loopback, with the Cloud
//! Controller stand-in, on a directory and on a real S3 server: every status code, the
//! spec's error JSON, and bad input that never reaches the store.

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const INSTANCE: &str = "2b7c6a1e-0f3d-4c5b-9a8e-7d6c5b4a3f21";
const APP_A: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
const APP_B: &str = "0b7c9d2e-1f3a-4b5c-8d6e-7f8a9b0c1d2e";
const NO_ROUTE: &str = "c0ffee00-1234-4abc-9def-0123456789ab";

fn world() -> Value {
    // A TCP route and an internal one: neither is a public HTTP route Prometheus can use.
    let mut worker = app(NO_ROUTE, "worker", 1);
    worker["routes"] = json!(["tcp.cloudapps.test:1024", "worker.apps.internal"]);
    json!([app(APP_A, "notify-api", 2), app(APP_B, "notify-admin", 1), worker])
}

fn assert_error(response: &HttpResponse, status: u16, description_part: &str) {
    assert_eq!(response.status, status, "{}", response.text);
    let body = response.json();
    assert!(body["error"].is_string(), "{body}");
    let description = body["description"]
        .as_str()
        .unwrap_or_else(|| panic!("no description: {body}"));
    assert!(
        description.contains(description_part),
        "`{description}` lacks `{description_part}`"
    );
}

fn binding_path(binding: &str) -> String {
    format!("/v2/service_instances/{INSTANCE}/service_bindings/{binding}")
}

#[test]
fn osb_contract_on_a_directory() {
    osb_contract(Location::directory());
}

#[test]
fn osb_contract_on_s3() {
    osb_contract(Location::s3());
}

fn osb_contract(location: Location) {
    let cf = CfApi::start(&world());
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };

    auth_and_version(&broker.url);
    let catalog = platform.call("GET", "/v2/catalog", None);
    assert_eq!(catalog.status, 200);
    let service = &catalog.json()["services"][0];
    assert_eq!(service["id"], SERVICE_ID);
    assert_eq!(service["bindable"], true);
    assert_eq!(service["plans"][0]["id"], PLAN_ID);

    provisioning(&platform);
    bad_input_never_reaches_the_store(&platform, &location);
    binding(&platform, &location, &cf);
    deprovisioning(&platform, &location);
    let metrics = http(&broker.url, "GET", "/metrics", &[], b"").text;
    assert!(
        metrics.contains(r#"gds_prometheus_broker_requests_total{operation="bind",code="201"} 3.0"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("gds_prometheus_broker_cloud_controller_errors_total 1.0"),
        "{metrics}"
    );
}

fn auth_and_version(url: &str) {
    let wrong = format!("Basic {}", base64_encode(b"platform:wrong"));
    let right = format!(
        "Basic {}",
        base64_encode(format!("{USERNAME}:{PASSWORD}").as_bytes())
    );
    for headers in [
        vec![("x-broker-api-version", "2.17")],
        vec![
            ("authorization", wrong.as_str()),
            ("x-broker-api-version", "2.17"),
        ],
    ] {
        let response = http(url, "GET", "/v2/catalog", &headers, b"");
        assert_error(&response, 401, "username and password");
        assert!(response
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Basic")));
    }
    for version in [None, Some("3.0"), Some("1.14")] {
        let mut headers = vec![("authorization", right.as_str())];
        headers.extend(version.map(|v| ("x-broker-api-version", v)));
        assert_error(&http(url, "GET", "/v2/catalog", &headers, b""), 412, "2.x");
    }
    let response = http(
        url,
        "GET",
        "/v2/catalog",
        &[
            ("authorization", &right),
            ("x-broker-api-version", "2.13"),
            ("x-broker-api-request-identity", "req-42"),
        ],
        b"",
    );
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-broker-api-request-identity"), Some("req-42"));
}

fn provisioning(platform: &Platform) {
    let path = format!("/v2/service_instances/{INSTANCE}?accepts_incomplete=true");
    assert_eq!(platform.call("PUT", &path, Some(&provision_body())).status, 201);
    let again = platform.call("PUT", &path, Some(&provision_body()));
    assert_eq!((again.status, again.json()), (200, json!({})));
    let mut other = provision_body();
    other["space_guid"] = json!("another-space");
    assert_error(&platform.call("PUT", &path, Some(&other)), 409, "already exists");
    let fetched = platform.call("GET", &format!("/v2/service_instances/{INSTANCE}"), None);
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json()["plan_id"], PLAN_ID);
    assert_error(
        &platform.call("GET", "/v2/service_instances/unknown-instance", None),
        404,
        "does not exist",
    );
}

fn bad_input_never_reaches_the_store(platform: &Platform, location: &Location) {
    let before = location.snapshot();
    let url = platform.broker;
    let auth = format!(
        "Basic {}",
        base64_encode(format!("{USERNAME}:{PASSWORD}").as_bytes())
    );
    let headers = |content_type: &'static str| {
        vec![
            ("authorization", auth.clone()),
            ("x-broker-api-version", "2.17".to_owned()),
            ("content-type", content_type.to_owned()),
        ]
    };
    let send = |path: &str, content_type: &'static str, body: &[u8]| {
        let owned = headers(content_type);
        let borrowed: Vec<(&str, &str)> = owned.iter().map(|(n, v)| (*n, v.as_str())).collect();
        http(url, "PUT", path, &borrowed, body)
    };
    let new_instance = "/v2/service_instances/new-instance";
    assert_error(
        &send(new_instance, "application/json", b"{\"service_id\": "),
        400,
        "not valid JSON",
    );
    assert_error(
        &send(new_instance, "application/json", b"[1, 2]"),
        400,
        "JSON object",
    );
    assert_error(
        &send(
            new_instance,
            "text/plain",
            provision_body().to_string().as_bytes(),
        ),
        415,
        "application/json",
    );
    let huge = vec![b' '; 10 * 1024 * 1024];
    assert_error(&send(new_instance, "application/json", &huge), 413, "larger than");
    let mut missing = provision_body();
    missing.as_object_mut().unwrap().remove("service_id");
    assert_error(
        &platform.call("PUT", new_instance, Some(&missing)),
        400,
        "`service_id` is missing",
    );
    let mut no_plan = provision_body();
    no_plan.as_object_mut().unwrap().remove("plan_id");
    assert_error(
        &platform.call("PUT", new_instance, Some(&no_plan)),
        400,
        "`plan_id` is missing",
    );
    let mut unknown = provision_body();
    unknown["service_id"] = json!("not-our-service");
    assert_error(
        &platform.call("PUT", new_instance, Some(&unknown)),
        400,
        "unknown service_id",
    );
    let mut unknown_plan = provision_body();
    unknown_plan["plan_id"] = json!("not-our-plan");
    assert_error(
        &platform.call("PUT", new_instance, Some(&unknown_plan)),
        400,
        "unknown plan_id",
    );
    assert_error(
        &platform.call(
            "PUT",
            &format!("{new_instance}?accepts_incomplete=maybe"),
            Some(&provision_body()),
        ),
        400,
        "accepts_incomplete",
    );
    assert_error(
        &platform.call("PUT", "/v2/service_instances/..%2Fetc", Some(&provision_body())),
        400,
        "instance_id",
    );
    assert_error(
        &platform.call("DELETE", new_instance, None),
        400,
        "`service_id` is missing",
    );
    let no_app =
        json!({"service_id": SERVICE_ID, "plan_id": PLAN_ID, "bind_resource": {"route": "x.example.org"}});
    let response = platform.call("PUT", &binding_path("b-none"), Some(&no_app));
    assert_eq!(response.status, 422);
    assert_eq!(response.json()["error"], "RequiresApp");
    let mut typo = bind_body(APP_A);
    typo["parameters"] = json!({"exportr": true});
    assert_error(
        &platform.call("PUT", &binding_path("b-typo"), Some(&typo)),
        400,
        "unknown parameter `exportr`",
    );
    let mut bad_guid = bind_body(APP_A);
    bad_guid["bind_resource"]["app_guid"] = json!(APP_A.to_uppercase());
    assert_error(
        &platform.call("PUT", &binding_path("b-upper"), Some(&bad_guid)),
        400,
        "upper-case",
    );
    assert_error(
        &platform.call(
            "PUT",
            "/v2/service_instances/unknown/service_bindings/b1",
            Some(&bind_body(APP_A)),
        ),
        404,
        "does not exist",
    );
    assert_error(
        &platform.call("PATCH", &binding_path("b1"), Some(&bind_body(APP_A))),
        405,
        "method",
    );
    assert_error(&platform.call("GET", "/v2/nothing-here", None), 404, "no such");
    assert_eq!(location.snapshot(), before, "bad input changed the store");
}

fn binding(platform: &Platform, location: &Location, cf: &CfApi) {
    // No public route: nothing written, a clear answer.
    assert_error(
        &platform.bind(INSTANCE, "b-worker", NO_ROUTE),
        422,
        "no public HTTP route",
    );
    // The Cloud Controller failing: 502, nothing written.
    let before = location.snapshot();
    cf.admin(
        "/admin/fail",
        json!({"path": "/v3/processes", "status": 503, "count": 1}),
    );
    assert_error(&platform.bind(INSTANCE, "b-a1", APP_A), 502, "Cloud Controller");
    assert_eq!(location.snapshot(), before);

    assert_eq!(platform.bind(INSTANCE, "b-a1", APP_A).status, 201);
    assert_eq!(location.guids("active"), [APP_A]);
    let target = location.target("active", APP_A);
    assert_eq!(target.as_array().unwrap().len(), 2);
    assert_eq!(target[1]["targets"], json!(["notify-api.cloudapps.test"]));
    assert_eq!(target[1]["labels"]["job"], "notify-api");
    assert_eq!(target[1]["labels"]["instance"], format!("{APP_A}:1"));
    assert_eq!(target[1]["labels"]["org"], "gds");
    assert_eq!(target[1]["labels"]["space"], "production");

    let repeat = platform.bind(INSTANCE, "b-a1", APP_A);
    assert_eq!((repeat.status, repeat.json()), (200, json!({"credentials": {}})));
    assert_error(&platform.bind(INSTANCE, "b-a1", APP_B), 409, "already exists");
    let fetched = platform.call("GET", &binding_path("b-a1"), None);
    assert_eq!(fetched.status, 200);
    assert_error(
        &platform.call("GET", &binding_path("b-unknown"), None),
        404,
        "does not exist",
    );

    // Two bindings of one app: the target stays until the last one goes.
    assert_eq!(platform.bind(INSTANCE, "b-a2", APP_A).status, 201);
    let unbind = platform.unbind(INSTANCE, "b-a1");
    assert_eq!((unbind.status, unbind.json()), (200, json!({})));
    assert_eq!(location.guids("active"), [APP_A], "app A still has binding b-a2");
    let gone = platform.unbind(INSTANCE, "b-a1");
    assert_eq!((gone.status, gone.json()), (410, json!({})));
    assert_eq!(platform.unbind(INSTANCE, "b-a2").status, 200);
    assert!(
        location.guids("active").is_empty(),
        "the last binding took the target"
    );
    assert_eq!(platform.unbind(INSTANCE, "b-never").status, 410);

    // A stopped app is bound into inactive/; an exporter's targets carry no `space`.
    cf.change(APP_B, json!({"action": "stop"}));
    let mut exporter = bind_body(APP_B);
    exporter["parameters"] = json!({"exporter": true});
    assert_eq!(
        platform
            .call("PUT", &binding_path("b-b1"), Some(&exporter))
            .status,
        201
    );
    assert_eq!(location.guids("inactive"), [APP_B]);
    let labels = &location.target("inactive", APP_B)[0]["labels"];
    assert_eq!(labels["job"], "notify-admin");
    assert!(labels.get("space").is_none(), "{labels}");
}

fn deprovisioning(platform: &Platform, location: &Location) {
    let query = format!("?service_id={SERVICE_ID}&plan_id={PLAN_ID}&accepts_incomplete=true");
    let path = format!("/v2/service_instances/{INSTANCE}{query}");
    let response = platform.call("DELETE", &path, None);
    assert_eq!((response.status, response.json()), (200, json!({})));
    assert!(
        location.guids("inactive").is_empty(),
        "deprovisioning removed what the instance held"
    );
    assert!(location.guids("active").is_empty());
    assert_eq!(platform.call("DELETE", &path, None).status, 410);
    let leftover: Vec<String> = location.snapshot().into_iter().map(|(n, _)| n).collect();
    assert!(leftover.is_empty(), "left behind: {leftover:?}");
}

#[test]
fn no_credential_token_or_app_guid_reaches_the_output_and_failures_say_why() {
    let location = Location::directory();
    let cf = CfApi::start(&world());
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    let unknown_app = guid(77);
    assert_eq!(platform.provision(INSTANCE).status, 201);
    assert_eq!(platform.bind(INSTANCE, "b-a", APP_A).status, 201);
    assert_eq!(platform.bind(INSTANCE, "b-worker", NO_ROUTE).status, 422);
    assert_eq!(platform.bind(INSTANCE, "b-unknown", &unknown_app).status, 422);
    cf.admin(
        "/admin/fail",
        json!({"path": "/v3/processes", "status": 503, "count": 1}),
    );
    assert_eq!(platform.bind(INSTANCE, "b-b", APP_B).status, 502);
    let wrong = format!("Basic {}", base64_encode(b"platform:not-the-password"));
    let headers = [
        ("authorization", wrong.as_str()),
        ("x-broker-api-version", "2.17"),
    ];
    assert_eq!(http(&broker.url, "GET", "/v2/catalog", &headers, b"").status, 401);

    // The updater, in both modes: removing a deleted app's file, and failing once.
    let updater = Process::updater(&cf, &location, "1s");
    cf.change(APP_A, json!({"action": "delete"}));
    let removed = "remove active/ for an app the Cloud Controller no longer lists: removed";
    eventually(
        "the updater removed the deleted app's file",
        Duration::from_secs(30),
        || updater.output.text().contains(removed),
    );
    let updater_output = updater.output.clone();
    updater.kill_hard();
    cf.admin(
        "/admin/fail",
        json!({"path": "/v3/apps", "status": 500, "count": 1}),
    );
    let (ok, once) = update_once(&cf, &location);
    assert!(!ok, "{once}");
    assert_eq!(platform.unbind(INSTANCE, "b-a").status, 200);

    let output = format!("{}{}{once}", broker.output.text(), updater_output.text());
    let mut secrets = vec![
        PASSWORD.to_owned(),
        "not-the-password".to_owned(),
        CLIENT_SECRET.to_owned(),
        APP_A.to_owned(),
        APP_B.to_owned(),
        NO_ROUTE.to_owned(),
        unknown_app,
    ];
    secrets.extend(cf.tokens());
    assert!(
        cf.tokens().len() >= 3,
        "the broker, the updater and the run each had a token"
    );
    for secret in &secrets {
        assert!(
            !output.contains(secret.as_str()),
            "`{secret}` was printed:\n{output}"
        );
    }
    for expected in [
        "bind /v2/service_instances/".to_owned() + INSTANCE + "/service_bindings/b-a 201",
        r#"b-worker 422"#.to_owned(),
        r#"error="app `worker` has no public HTTP route"#.to_owned(),
        r#"error="the Cloud Controller knows no such app; bind an existing app""#.to_owned(),
        r#"b-b 502"#.to_owned(),
        r#"error="cannot read the app from the Cloud Controller: "#.to_owned(),
        r#"answered 503 Service Unavailable"#.to_owned(),
        r#"error="give the broker's username and password""#.to_owned(),
        removed.to_owned(),
        "the Cloud Controller listing failed, so nothing was changed".to_owned(),
    ] {
        assert!(output.contains(&expected), "no `{expected}` in:\n{output}");
    }
}

#[test]
fn a_store_failure_answers_503_and_is_counted() {
    let location = Location::directory();
    let cf = CfApi::start(&world());
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    assert_eq!(platform.provision(INSTANCE).status, 201);
    // A file where the binding records' folder belongs: every read of a binding fails.
    let bindings = location.root().join("bindings");
    std::fs::write(&bindings, "not a folder").unwrap();
    assert_error(
        &platform.call("GET", &binding_path("b-a1"), None),
        503,
        "the target store failed",
    );
    assert_error(&platform.bind(INSTANCE, "b-a1", APP_A), 503, "try again");
    let metrics = http(&broker.url, "GET", "/metrics", &[], b"").text;
    assert!(
        metrics.contains("gds_prometheus_broker_store_errors_total 2.0"),
        "{metrics}"
    );
    std::fs::remove_file(&bindings).unwrap();
    assert_eq!(platform.bind(INSTANCE, "b-a1", APP_A).status, 201);
}

#[test]
fn a_missing_or_malformed_setting_stops_the_binary_naming_it() {
    let complete: Vec<(String, String)> = [
        ("CF_API_URL", "http://127.0.0.1:9"),
        ("CF_CLIENT_ID", CLIENT_ID),
        ("CF_CLIENT_SECRET", CLIENT_SECRET),
        ("TARGETS_LOCATION", "/nonexistent-for-the-test"),
        ("BROKER_USERNAME", USERNAME),
        ("BROKER_PASSWORD", PASSWORD),
        ("BIND_ADDRESS", "127.0.0.1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let with = |name: &str, value: Option<&str>| -> Vec<(String, String)> {
        let mut env: Vec<_> = complete.iter().filter(|(k, _)| k != name).cloned().collect();
        env.extend(value.map(|v| (name.to_owned(), v.to_owned())));
        env
    };
    for (args, env, message) in [
        (
            vec![],
            with("BROKER_PASSWORD", None),
            "`BROKER_PASSWORD` is not set",
        ),
        (
            vec![],
            with("PORT", Some("http")),
            "`PORT` must be a port number, got `http`",
        ),
        (
            vec![],
            with("CF_API_URL", Some("api.example.org")),
            "`CF_API_URL` must be the Cloud Controller's URL",
        ),
        (
            vec![],
            with("TARGETS_LOCATION", Some("s3://")),
            "`TARGETS_LOCATION`",
        ),
        (
            vec!["update", "--every", "5d"],
            with("PORT", None),
            "`5d` is not a period",
        ),
        (vec!["updat"], with("PORT", None), "unexpected arguments `updat`"),
    ] {
        let (ok, output) = run_binary(&args, &env);
        assert!(!ok, "{args:?} started: {output}");
        assert!(
            output.starts_with("gds-prometheus-broker: ") && output.contains(message),
            "`{message}` not in `{output}`"
        );
        assert!(
            !output.contains(PASSWORD) && !output.contains(CLIENT_SECRET),
            "{output}"
        );
    }
}

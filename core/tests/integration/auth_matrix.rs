//! Every shape of `Authorization` header a scrape can carry, against the exact status the
//! endpoint must answer; no response body may ever contain the token.

use gds_metrics::{Config, Endpoint, Registry, Request};
use std::sync::Arc;

const GUID: &str = "6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c";

fn endpoint_with_env(vars: &[(&str, &str)]) -> Endpoint {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let config = Config::builder()
        .build_with_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .expect("valid configuration");
    Endpoint::new(config, Arc::new(Registry::new())).expect("fresh registry")
}

fn on_paas() -> Endpoint {
    let vcap =
        format!(r#"{{"application_id":"{GUID}","instance_index":0,"application_uris":["app.example"]}}"#);
    endpoint_with_env(&[("VCAP_APPLICATION", &vcap)])
}

fn status_for(endpoint: &Endpoint, authorization: &[&[u8]]) -> u16 {
    let mut request = Request::new("GET", "/metrics");
    for value in authorization {
        request = request.header("Authorization", value);
    }
    let response = endpoint.handle(&request);
    let body = String::from_utf8_lossy(&response.body);
    assert!(
        !body.contains(GUID),
        "the token leaked into a {} body",
        response.status
    );
    for (name, value) in &response.headers {
        assert!(!value.contains(GUID), "the token leaked into header {name}");
    }
    response.status
}

fn bearer(token: &str) -> Vec<u8> {
    format!("Bearer {token}").into_bytes()
}

#[test]
fn auth_matrix_on_the_paas() {
    let endpoint = on_paas();
    let right = bearer(GUID);
    let prefix = bearer(&GUID[..GUID.len() - 1]);
    let suffix = bearer(&format!("{GUID}0"));
    let upper = bearer(&GUID.to_uppercase());
    let huge = {
        let mut v = b"Bearer ".to_vec();
        v.extend(std::iter::repeat_n(b'a', 64 * 1024));
        v
    };
    let huge_after_token = {
        let mut v = right.clone();
        v.extend(std::iter::repeat_n(b' ', 64 * 1024));
        v
    };
    let non_ascii = format!("Bearer {GUID}é").into_bytes();
    let invalid_utf8 = {
        let mut v = right.clone();
        v.push(0xff);
        v
    };
    let cases: Vec<(&str, Vec<Vec<u8>>, u16)> = vec![
        ("missing header", vec![], 401),
        ("right token", vec![right.clone()], 200),
        ("empty header", vec![b"".to_vec()], 403),
        ("only whitespace", vec![b"   ".to_vec()], 403),
        ("scheme without token", vec![b"Bearer".to_vec()], 403),
        ("scheme and space without token", vec![b"Bearer ".to_vec()], 403),
        ("token without scheme", vec![GUID.as_bytes().to_vec()], 403),
        (
            "lower-case bearer",
            vec![format!("bearer {GUID}").into_bytes()],
            200,
        ),
        (
            "upper-case BEARER",
            vec![format!("BEARER {GUID}").into_bytes()],
            200,
        ),
        (
            "mixed-case scheme",
            vec![format!("bEaReR {GUID}").into_bytes()],
            200,
        ),
        (
            "two spaces between",
            vec![format!("Bearer  {GUID}").into_bytes()],
            200,
        ),
        ("tab between", vec![format!("Bearer\t{GUID}").into_bytes()], 200),
        (
            "leading and trailing spaces",
            vec![format!("  Bearer {GUID}  ").into_bytes()],
            200,
        ),
        ("trailing tab", vec![format!("Bearer {GUID}\t").into_bytes()], 200),
        (
            "no space between",
            vec![format!("Bearer{GUID}").into_bytes()],
            403,
        ),
        (
            "wrong token",
            vec![b"Bearer 00000000-0000-0000-0000-000000000000".to_vec()],
            403,
        ),
        ("prefix of the token", vec![prefix.clone()], 403),
        ("token plus a character", vec![suffix.clone()], 403),
        ("token in upper case", vec![upper.clone()], 403),
        (
            "token twice",
            vec![format!("Bearer {GUID} {GUID}").into_bytes()],
            403,
        ),
        (
            "Basic scheme with the token",
            vec![format!("Basic {GUID}").into_bytes()],
            403,
        ),
        ("Basic credentials", vec![b"Basic dXNlcjpwYXNz".to_vec()], 403),
        ("Token scheme", vec![format!("Token {GUID}").into_bytes()], 403),
        (
            "quoted token",
            vec![format!("Bearer \"{GUID}\"").into_bytes()],
            403,
        ),
        ("two headers, both right", vec![right.clone(), right.clone()], 403),
        (
            "two headers, one wrong",
            vec![right.clone(), b"Bearer nope".to_vec()],
            403,
        ),
        ("two headers, one empty", vec![b"".to_vec(), right.clone()], 403),
        ("non-ASCII after the token", vec![non_ascii.clone()], 403),
        ("invalid UTF-8 after the token", vec![invalid_utf8.clone()], 403),
        ("NUL byte", vec![b"Bearer \0".to_vec()], 403),
        ("64 KiB token", vec![huge.clone()], 403),
        (
            "right token then 64 KiB of spaces",
            vec![huge_after_token.clone()],
            200,
        ),
        (
            "newline inside",
            vec![format!("Bearer\n{GUID}").into_bytes()],
            403,
        ),
    ];
    assert!(cases.len() >= 30);
    for (name, headers, expected) in cases {
        let headers: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
        assert_eq!(status_for(&endpoint, &headers), expected, "case: {name}");
    }
}

#[test]
fn missing_header_is_challenged_with_bearer_realm() {
    let response = on_paas().handle(&Request::new("GET", "/metrics"));
    assert_eq!(response.status, 401);
    assert_eq!(
        response.header("www-authenticate"),
        Some("Bearer realm=\"metrics\"")
    );
    assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(response.body.iter().filter(|b| **b == b'\n').count(), 1);
}

#[test]
fn wrong_token_is_forbidden_with_one_line_of_text() {
    let response = on_paas().handle(&Request::new("GET", "/metrics").header("authorization", b"Bearer x"));
    assert_eq!(response.status, 403);
    assert_eq!(response.header("www-authenticate"), None);
    assert_eq!(
        String::from_utf8(response.body).unwrap(),
        "Forbidden: the bearer token is not this app's GUID.\n"
    );
}

#[test]
fn auth_switched_off_serves_any_header() {
    let vcap = format!(r#"{{"application_id":"{GUID}"}}"#);
    for switch in ["false", "FALSE", "False"] {
        let endpoint = endpoint_with_env(&[("VCAP_APPLICATION", &vcap), ("METRICS_BASIC_AUTH", switch)]);
        assert_eq!(status_for(&endpoint, &[]), 200, "{switch}");
        assert_eq!(status_for(&endpoint, &[b"Bearer wrong"]), 200, "{switch}");
        assert_eq!(status_for(&endpoint, &[b"x", b"y"]), 200, "{switch}");
    }
}

#[test]
fn auth_switched_on_by_default_and_by_true_in_any_case() {
    let vcap = format!(r#"{{"application_id":"{GUID}"}}"#);
    for switch in [None, Some("true"), Some("TRUE"), Some("True")] {
        let mut vars = vec![("VCAP_APPLICATION", vcap.as_str())];
        vars.extend(switch.map(|s| ("METRICS_BASIC_AUTH", s)));
        let endpoint = endpoint_with_env(&vars);
        assert_eq!(status_for(&endpoint, &[]), 401, "{switch:?}");
        assert_eq!(status_for(&endpoint, &[&bearer(GUID)]), 200, "{switch:?}");
    }
}

#[test]
fn without_vcap_application_auth_is_off() {
    let endpoint = endpoint_with_env(&[]);
    assert!(!endpoint.config().auth_enabled());
    assert_eq!(status_for(&endpoint, &[]), 200);
    assert_eq!(status_for(&endpoint, &[b"Bearer anything"]), 200);
}

#[test]
fn application_id_given_in_code_wins_over_vcap_application() {
    let config = Config::builder()
        .application_id("code-guid")
        .build_with_env(|name| {
            (name == "VCAP_APPLICATION").then(|| format!(r#"{{"application_id":"{GUID}"}}"#))
        })
        .unwrap();
    let endpoint = Endpoint::new(config, Arc::new(Registry::new())).unwrap();
    assert_eq!(status_for(&endpoint, &[&bearer("code-guid")]), 200);
    assert_eq!(status_for(&endpoint, &[&bearer(GUID)]), 403);
}

#[test]
fn rejected_scrapes_are_counted_with_their_status() {
    let endpoint = on_paas();
    endpoint.handle(&Request::new("GET", "/metrics").header("Host", b"app.example"));
    endpoint.handle(
        &Request::new("GET", "/metrics")
            .header("Host", b"app.example")
            .header("Authorization", b"x"),
    );
    let requests = endpoint.request_metrics().requests();
    let count = |code: &str| {
        requests
            .labels(&["GET", "app.example", "/metrics", code])
            .unwrap()
            .get()
    };
    assert_eq!(count("401"), 1.0);
    assert_eq!(count("403"), 1.0);
}

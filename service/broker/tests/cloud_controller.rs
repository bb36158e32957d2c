//! The broker's use of UAA and the Cloud Controller v3 API, against the stand-in over
//! real HTTP: one token reused across binds, renewed before it expires, and replaced once
//! after a 401; and the stand-in answering as the v3 API documents (the 400 for a
//! `per_page` over 5000, `included` per page, TCP routes, an app's processes, the 404 of
//! an unknown app).

mod support;

use serde_json::{json, Value};
use std::time::Duration;
use support::*;

const INSTANCE: &str = "instance-1";

fn apps(count: u32) -> (Vec<String>, Value) {
    let guids: Vec<String> = (1..=count).map(guid).collect();
    let world = guids
        .iter()
        .enumerate()
        .map(|(n, g)| app(g, &format!("app-{n}"), 1))
        .collect();
    (guids, Value::Array(world))
}

#[test]
fn one_uaa_token_serves_every_bind_and_a_401_gets_one_fresh_token_and_one_retry() {
    let (guids, world) = apps(4);
    let cf = CfApi::start(&world);
    let location = Location::directory();
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    assert_eq!(platform.provision(INSTANCE).status, 201);
    for (n, app) in guids[..3].iter().enumerate() {
        assert_eq!(platform.bind(INSTANCE, &format!("binding-{n}"), app).status, 201);
    }
    assert_eq!(cf.requests_to("/oauth/token"), 1, "{}", cf.requests());
    assert_eq!(cf.answers_with(401), 0);

    cf.admin("/admin/revoke", json!({}));
    assert_eq!(platform.bind(INSTANCE, "binding-3", &guids[3]).status, 201);
    assert_eq!(cf.requests_to("/oauth/token"), 2, "{}", cf.requests());
    assert_eq!(cf.answers_with(401), 1, "one refused request, then the retry");
    assert_eq!(location.guids("active"), guids);
}

#[test]
fn a_short_lived_uaa_token_is_renewed_before_it_expires() {
    let (guids, world) = apps(2);
    // Six seconds: renewed after three (half its life), before the stand-in refuses it.
    let cf = CfApi::start_with(&world, &["--token-lifetime", "6"]);
    let location = Location::directory();
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    assert_eq!(platform.provision(INSTANCE).status, 201);
    assert_eq!(platform.bind(INSTANCE, "binding-0", &guids[0]).status, 201);
    assert_eq!(platform.bind(INSTANCE, "binding-0", &guids[0]).status, 200);
    assert_eq!(cf.requests_to("/oauth/token"), 1);

    // Time is what is tested here: past the renewal point, short of the expiry.
    std::thread::sleep(Duration::from_millis(3500));
    assert_eq!(platform.bind(INSTANCE, "binding-1", &guids[1]).status, 201);
    assert_eq!(cf.requests_to("/oauth/token"), 2, "renewed before the next bind");
    assert_eq!(
        cf.answers_with(401),
        0,
        "renewed before expiry, not after a refusal"
    );
}

/// A GET of the stand-in's v3 API with a fresh token.
fn v3(cf: &CfApi, path: &str) -> HttpResponse {
    let basic = format!(
        "Basic {}",
        base64_encode(format!("{CLIENT_ID}:{CLIENT_SECRET}").as_bytes())
    );
    let token = http(
        &cf.url,
        "POST",
        "/oauth/token",
        &[
            ("authorization", &basic),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        b"grant_type=client_credentials",
    )
    .json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    http(
        &cf.url,
        "GET",
        path,
        &[("authorization", &format!("bearer {token}"))],
        b"",
    )
}

fn first_error(response: &HttpResponse) -> Value {
    response.json()["errors"][0].clone()
}

#[test]
fn the_stand_in_answers_as_the_v3_api_documents() {
    let (guids, mut world) = apps(3);
    world[1]["org"] = json!("other-org");
    world[1]["space"] = json!("staging");
    world[2]["routes"] = json!(["tcp.cloudapps.test:1024", "app-2.cloudapps.test/api"]);
    let cf = CfApi::start(&world);

    let too_many = v3(&cf, "/v3/apps?per_page=5001");
    assert_eq!(too_many.status, 400);
    assert_eq!(first_error(&too_many)["title"], "CF-BadQueryParameter");
    assert_eq!(first_error(&too_many)["code"], 10005);
    assert_eq!(
        first_error(&too_many)["detail"],
        "The query parameter is invalid: Per page must be between 1 and 5000"
    );
    assert_eq!(v3(&cf, "/v3/apps?per_page=0").status, 400);
    assert_eq!(v3(&cf, "/v3/apps?page=0").status, 400);

    // Page 2 of 3 includes the space and organization of its own app only.
    let second = v3(&cf, "/v3/apps?per_page=1&page=2&include=space.organization").json();
    assert_eq!(second["resources"][0]["guid"], guids[1].as_str());
    let names = |kind: &str| -> Vec<Value> {
        second["included"][kind]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["name"].clone())
            .collect()
    };
    assert_eq!(names("spaces"), [json!("staging")]);
    assert_eq!(names("organizations"), [json!("other-org")]);
    assert_eq!(second["pagination"]["total_pages"], 3);
    let next = second["pagination"]["next"]["href"].as_str().unwrap();
    assert!(
        next.ends_with("include=space.organization&page=3&per_page=1"),
        "{next}"
    );

    // `domain:port` is a TCP route on that domain; `host.domain/path` an HTTP route.
    let routes = v3(&cf, &format!("/v3/routes?app_guids={}&include=domain", guids[2])).json();
    let tcp = &routes["resources"][0];
    assert_eq!(
        (&tcp["protocol"], &tcp["host"], &tcp["port"], &tcp["url"]),
        (
            &json!("tcp"),
            &json!(""),
            &json!(1024),
            &json!("tcp.cloudapps.test:1024")
        )
    );
    let web = &routes["resources"][1];
    assert_eq!(
        (&web["protocol"], &web["host"], &web["path"]),
        (&json!("http"), &json!("app-2"), &json!("/api"))
    );
    let domains: Vec<(Value, Value)> = routes["included"]["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].clone(), d["supported_protocols"].clone()))
        .collect();
    assert_eq!(
        domains,
        [
            (json!("cloudapps.test"), json!(["http"])),
            (json!("tcp.cloudapps.test"), json!(["tcp"]))
        ]
    );

    // An app's processes, linked from the app, and the 404 of an app that does not exist.
    let app = v3(&cf, &format!("/v3/apps/{}", guids[0])).json();
    let processes_link = app["links"]["processes"]["href"].as_str().unwrap();
    let path = processes_link.trim_start_matches(&cf.url);
    let processes = v3(&cf, path);
    assert_eq!(processes.status, 200, "{}", processes.text);
    assert_eq!(processes.json()["resources"][0]["type"], "web");
    assert_eq!(processes.json()["resources"][0]["instances"], 1);
    let missing = v3(&cf, &format!("/v3/apps/{}", guid(99)));
    assert_eq!(missing.status, 404);
    assert_eq!(first_error(&missing)["title"], "CF-ResourceNotFound");
    assert_eq!(first_error(&missing)["code"], 10010);
}

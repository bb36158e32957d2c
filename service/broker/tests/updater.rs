//! The target updater against the Cloud Controller stand-in, on a directory and on S3:
//! scale, stop, start, blue-green rename, delete without unbind, a failed or incomplete
//! listing, listings over many pages, a bound app without a file, and a broker and
//! updater killed mid-write (and a broker's repair at start); then two updaters racing a
//! broker on S3.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;
use support::*;

const INSTANCE: &str = "instance-1";

fn bind_all(platform: &Platform, apps: &[String]) {
    assert_eq!(platform.provision(INSTANCE).status, 201);
    for (n, app) in apps.iter().enumerate() {
        let response = platform.bind(INSTANCE, &format!("binding-{n}"), app);
        assert_eq!(response.status, 201, "{}", response.text);
    }
}

fn update(cf: &CfApi, location: &Location) -> String {
    let (ok, output) = update_once(cf, location);
    assert!(ok, "the update failed: {output}");
    output
}

fn labels(location: &Location, folder: &str, guid: &str) -> Vec<Value> {
    location
        .target(folder, guid)
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["labels"].clone())
        .collect()
}

#[test]
fn updater_follows_every_change_on_a_directory() {
    updater_follows_every_change(Location::directory());
}

#[test]
fn updater_follows_every_change_on_s3() {
    updater_follows_every_change(Location::s3());
}

fn updater_follows_every_change(location: Location) {
    let apps: Vec<String> = (1..=3).map(guid).collect();
    let cf = CfApi::start(&json!([
        app(&apps[0], "api", 1),
        app(&apps[1], "admin", 1),
        app(&apps[2], "worker", 2)
    ]));
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    bind_all(&platform, &apps);
    let requests_before = cf.requests();

    // A file no binding keeps is not the updater's: it is left alone.
    let stray = guid(99);
    std::fs::write(location.root().join(format!("active/{stray}.json")), "[]\n").unwrap();
    let quiet = update(&cf, &location);
    assert!(location.guids("active").contains(&stray));
    std::fs::remove_file(location.root().join(format!("active/{stray}.json"))).unwrap();
    assert!(
        quiet.contains(
            "apps: 3 started, 0 stopped, 0 deleted, 0 unroutable; files: 0 written, 0 removed, 3 unchanged"
        ),
        "{quiet}"
    );
    let requests = cf.requests();
    for path in ["/v3/apps", "/v3/processes", "/v3/routes"] {
        let delta = requests[path].as_u64().unwrap() - requests_before[path].as_u64().unwrap();
        assert_eq!(delta, 1, "one request to {path} for all three apps: {requests}");
    }

    cf.change(&apps[0], json!({"action": "scale", "instances": 3}));
    cf.change(&apps[1], json!({"action": "stop"}));
    cf.change(&apps[2], json!({"action": "rename", "name": "worker-venerable"}));
    update(&cf, &location);
    assert_eq!(
        location.target("active", &apps[0]).as_array().unwrap().len(),
        3,
        "scaled to 3"
    );
    assert_eq!(location.guids("inactive"), [apps[1].clone()], "stopped");
    assert_eq!(location.guids("active"), [apps[0].clone(), apps[2].clone()]);
    assert!(
        labels(&location, "active", &apps[2])
            .iter()
            .all(|l| l["job"] == "worker"),
        "-venerable is not part of the job"
    );

    cf.change(&apps[1], json!({"action": "start"}));
    cf.change(&apps[2], json!({"action": "rename", "name": "worker-v2"}));
    update(&cf, &location);
    assert!(
        location.guids("inactive").is_empty(),
        "started again: no stale inactive copy"
    );
    assert_eq!(location.guids("active"), apps);
    assert!(labels(&location, "active", &apps[2])
        .iter()
        .all(|l| l["job"] == "worker-v2"));

    // A listing that fails half-way changes nothing, and says so.
    cf.change(&apps[0], json!({"action": "delete"}));
    let before = location.snapshot();
    cf.admin(
        "/admin/fail",
        json!({"path": "/v3/routes", "status": 500, "count": 1}),
    );
    let (ok, output) = update_once(&cf, &location);
    assert!(
        !ok && output.contains("the Cloud Controller listing failed, so nothing was changed"),
        "{output}"
    );
    assert_eq!(location.snapshot(), before);

    // Deleted without unbind: its file goes; the later unbind is still answered.
    let output = update(&cf, &location);
    assert!(
        output.contains("remove active/ for an app the Cloud Controller no longer lists: removed"),
        "{output}"
    );
    assert!(
        !output.contains(&apps[0]),
        "an app GUID is a bearer token, never printed: {output}"
    );
    assert_eq!(location.guids("active"), [apps[1].clone(), apps[2].clone()]);
    assert_eq!(platform.unbind(INSTANCE, "binding-0").status, 200);
    assert_eq!(location.guids("active"), [apps[1].clone(), apps[2].clone()]);
}

/// Every binding id the store has a record for, from the files on disk.
fn recorded_bindings(location: &Location) -> BTreeSet<String> {
    binding_records(location)
        .into_iter()
        .map(|(binding, _)| binding)
        .collect()
}

/// Every app the store has a binding record for, from the files on disk.
fn recorded_apps(location: &Location) -> BTreeSet<String> {
    binding_records(location)
        .into_iter()
        .map(|(_, app)| app)
        .collect()
}

/// (binding id, app GUID) of every binding record on disk (`bindings/<id>/<guid>.json`).
fn binding_records(location: &Location) -> Vec<(String, String)> {
    location
        .snapshot()
        .into_iter()
        .filter_map(|(name, _)| {
            let (binding, file) = name.strip_prefix("bindings/")?.split_once('/')?;
            Some((binding.to_owned(), file.strip_suffix(".json")?.to_owned()))
        })
        .collect()
}

/// The apps with a target file in either folder.
fn apps_with_files(location: &Location) -> BTreeSet<String> {
    let mut apps: BTreeSet<String> = location.guids("active").into_iter().collect();
    apps.extend(location.guids("inactive"));
    apps
}

/// `count` apps named `app-<n>`, one instance each, served by a fresh stand-in.
fn numbered_apps(count: u32) -> (Vec<String>, CfApi) {
    let apps: Vec<String> = (1..=count).map(guid).collect();
    let cf = CfApi::start(&numbered_world(&apps));
    (apps, cf)
}

fn numbered_world(apps: &[String]) -> Value {
    Value::Array(
        apps.iter()
            .enumerate()
            .map(|(n, g)| app(g, &format!("app-{n}"), 1))
            .collect(),
    )
}

fn target_file(location: &Location, guid: &str) -> std::path::PathBuf {
    location.root().join(format!("active/{guid}.json"))
}

#[test]
fn a_broker_and_an_updater_killed_mid_write_lose_nothing_and_leave_nothing_on_a_directory() {
    killed_mid_write(Location::directory());
}

#[test]
fn a_broker_and_an_updater_killed_mid_write_lose_nothing_and_leave_nothing_on_s3() {
    killed_mid_write(Location::s3());
}

fn killed_mid_write(location: Location) {
    let (apps, cf) = numbered_apps(24);

    let broker = Process::broker(&cf, &location);
    let url = broker.url.clone();
    assert_eq!(Platform { broker: &url }.provision(INSTANCE).status, 201);
    // Binds in flight on another thread while the broker is killed.
    let binder = {
        let apps = apps.clone();
        std::thread::spawn(move || {
            for (n, app) in apps.iter().enumerate() {
                if std::panic::catch_unwind(|| {
                    Platform { broker: &url }.bind(INSTANCE, &format!("binding-{n}"), app)
                })
                .is_err()
                {
                    break;
                }
            }
        })
    };
    eventually("a few binds", Duration::from_secs(30), || {
        location.guids("active").len() >= 6
    });
    broker.kill_hard();
    let _ = binder.join();

    // Restarted, before any retry: every recorded binding has its file and every file a
    // binding (the repair at start), so a bind killed between its record and its file is
    // not hidden by the platform's retry.
    let broker = Process::broker(&cf, &location);
    assert_eq!(apps_with_files(&location), recorded_apps(&location));
    // The platform retries every bind on the restarted broker: all answered, nothing lost.
    let platform = Platform { broker: &broker.url };
    for (n, app) in apps.iter().enumerate() {
        let status = platform.bind(INSTANCE, &format!("binding-{n}"), app).status;
        assert!(status == 200 || status == 201, "retry of binding-{n}: {status}");
    }
    assert_eq!(location.guids("active"), apps);
    assert!(location.temporaries().is_empty());

    // An updater killed while it rewrites every file (all scaled): no file lost, and the
    // next run finishes the job.
    for app in &apps {
        cf.change(app, json!({"action": "scale", "instances": 2}));
    }
    let updater = Process::updater(&cf, &location, "1s");
    eventually("some rewrites", Duration::from_secs(30), || {
        apps.iter()
            .any(|a| location.target("active", a).as_array().unwrap().len() == 2)
    });
    updater.kill_hard();
    assert_eq!(location.guids("active"), apps, "a killed updater lost a file");
    update(&cf, &location);
    assert!(apps
        .iter()
        .all(|a| location.target("active", a).as_array().unwrap().len() == 2));

    // Unbinds killed half-way: the restarted broker removes the files no binding keeps;
    // the retries answer 200 or 410, and nothing is left behind.
    let url = broker.url.clone();
    let count = apps.len();
    let unbinder = std::thread::spawn(move || {
        for n in 0..count {
            if std::panic::catch_unwind(|| {
                Platform { broker: &url }.unbind(INSTANCE, &format!("binding-{n}"))
            })
            .is_err()
            {
                break;
            }
        }
    });
    eventually("a few unbinds", Duration::from_secs(30), || {
        location.guids("active").len() <= apps.len() - 6
    });
    broker.kill_hard();
    let _ = unbinder.join();
    let broker = Process::broker(&cf, &location);
    assert_eq!(apps_with_files(&location), recorded_apps(&location));
    let platform = Platform { broker: &broker.url };
    for n in 0..apps.len() {
        let status = platform.unbind(INSTANCE, &format!("binding-{n}")).status;
        assert!(
            status == 200 || status == 410,
            "retry of unbind binding-{n}: {status}"
        );
    }
    assert!(location.guids("active").is_empty() && location.guids("inactive").is_empty());
    assert!(recorded_bindings(&location).is_empty());
    assert!(location.temporaries().is_empty(), "{:?}", location.temporaries());
}

#[test]
fn a_restarted_broker_writes_the_missing_file_and_removes_the_unkept_one_on_a_directory() {
    restarted_broker_repairs(Location::directory());
}

#[test]
fn a_restarted_broker_writes_the_missing_file_and_removes_the_unkept_one_on_s3() {
    restarted_broker_repairs(Location::s3());
}

/// The two states a broker killed mid-bind or mid-unbind leaves, planted exactly: a
/// binding record without its file (killed after the record, before the file) and a file
/// without a binding record (killed after removing the record, before the file).
fn restarted_broker_repairs(location: Location) {
    let (apps, cf) = numbered_apps(3);
    let broker = Process::broker(&cf, &location);
    bind_all(&Platform { broker: &broker.url }, &apps);
    broker.kill_hard();
    std::fs::remove_file(target_file(&location, &apps[0])).unwrap();
    std::fs::remove_dir_all(location.root().join("bindings/binding-1")).unwrap();
    assert_eq!(location.guids("active"), [apps[1].clone(), apps[2].clone()]);

    let broker = Process::broker(&cf, &location);
    assert_eq!(location.guids("active"), [apps[0].clone(), apps[2].clone()]);
    assert_eq!(location.target("active", &apps[0])[0]["labels"]["job"], "app-0");
    let output = broker.output.text();
    assert!(
        output.contains("repair: wrote the file of `app-0`, bound but without one"),
        "{output}"
    );
    assert!(
        output.contains("repair: removed the files of an app no binding keeps"),
        "{output}"
    );
}

#[test]
fn the_updater_writes_the_file_of_a_bound_app_that_has_none_on_a_directory() {
    updater_restores_missing_files(Location::directory());
}

#[test]
fn the_updater_writes_the_file_of_a_bound_app_that_has_none_on_s3() {
    updater_restores_missing_files(Location::s3());
}

/// An unbind on one broker racing a bind of the same app on another can delete the file
/// of an app that is bound (S3 deletes are unconditional): the next updater run writes it.
fn updater_restores_missing_files(location: Location) {
    let (apps, cf) = numbered_apps(3);
    let broker = Process::broker(&cf, &location);
    bind_all(&Platform { broker: &broker.url }, &apps);
    let before = location.snapshot();
    std::fs::remove_file(target_file(&location, &apps[1])).unwrap();

    let output = update(&cf, &location);
    assert!(output.contains("write active/ for app-1: written"), "{output}");
    assert!(
        output.contains(
            "apps: 3 started, 0 stopped, 0 deleted, 0 unroutable; files: 1 written, 0 removed, 2 unchanged"
        ),
        "{output}"
    );
    assert_eq!(location.snapshot(), before, "the file is back as it was");
}

#[test]
fn an_app_the_listing_leaves_out_keeps_its_file_until_the_cloud_controller_answers_404() {
    let location = Location::directory();
    let (apps, cf) = numbered_apps(3);
    let broker = Process::broker(&cf, &location);
    bind_all(&Platform { broker: &broker.url }, &apps);
    let before = location.snapshot();

    // A 200 listing without the apps (the Cloud Controller still has them): an incomplete
    // listing, which changes nothing.
    for app in &apps {
        cf.change(app, json!({"action": "unlist"}));
    }
    let (ok, output) = update_once(&cf, &location);
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "the Cloud Controller listing failed, so nothing was changed: the listing left out 3 bound app(s) that \
             GET /v3/apps/:guid still finds"
        ),
        "{output}"
    );
    assert_eq!(location.snapshot(), before);
    for app in &apps {
        cf.change(app, json!({"action": "list"}));
    }

    // Deleted, but the 404 is not the Cloud Controller's `CF-ResourceNotFound`: no
    // confirmation, nothing changed.
    cf.change(&apps[0], json!({"action": "delete"}));
    let one_app = format!("/v3/apps/{}", apps[0]);
    cf.admin("/admin/fail", json!({"path": one_app, "status": 404, "count": 1}));
    let (ok, output) = update_once(&cf, &location);
    assert!(!ok, "{output}");
    assert!(
        output.contains(
            "/v3/apps/<guid> answered 404 without the Cloud Controller's CF-ResourceNotFound error"
        ),
        "{output}"
    );
    assert_eq!(location.snapshot(), before);

    // The Cloud Controller's own 404: the file goes. Only the unlisted app is asked about.
    let listed_app = format!("/v3/apps/{}", apps[1]);
    let asked_before = (cf.requests_to(&one_app), cf.requests_to(&listed_app));
    let output = update(&cf, &location);
    assert!(
        output.contains("remove active/ for an app the Cloud Controller no longer lists: removed"),
        "{output}"
    );
    assert_eq!(location.guids("active"), apps[1..].to_vec());
    assert_eq!(
        (cf.requests_to(&one_app), cf.requests_to(&listed_app)),
        (asked_before.0 + 1, asked_before.1)
    );
    assert!(
        apps.iter().all(|app| !output.contains(app.as_str())),
        "an app GUID is a bearer token, never printed: {output}"
    );
}

#[test]
fn listings_follow_every_page_and_a_failed_page_changes_nothing() {
    let location = Location::directory();
    let apps: Vec<String> = (1..=5).map(guid).collect();
    let mut world = numbered_world(&apps);
    // Another org and space on a later page: each page includes only its own apps'.
    world[3]["org"] = json!("other-org");
    world[3]["space"] = json!("staging");
    let cf = CfApi::start_with(&world, &["--max-per-page", "2"]);
    let broker = Process::broker(&cf, &location);
    bind_all(&Platform { broker: &broker.url }, &apps);
    for app in &apps {
        cf.change(app, json!({"action": "scale", "instances": 2}));
    }

    // Page 2 of the routes fails: nothing changes, and the run says why.
    let before = location.snapshot();
    cf.admin(
        "/admin/fail",
        json!({"path": "/v3/routes", "status": 503, "count": 1, "page": 2}),
    );
    let (ok, output) = update_once(&cf, &location);
    assert!(!ok, "{output}");
    assert!(
        output.contains("the Cloud Controller listing failed, so nothing was changed")
            && output.contains("503"),
        "{output}"
    );
    assert_eq!(location.snapshot(), before);

    // Every page read: 5 apps and 5 processes in 3 pages of 2, 10 routes in 5 pages.
    let requests_before = cf.requests();
    let output = update(&cf, &location);
    assert!(output.contains("files: 5 written"), "{output}");
    let requests = cf.requests();
    for (path, pages) in [("/v3/apps", 3), ("/v3/processes", 3), ("/v3/routes", 5)] {
        let delta = requests[path].as_u64().unwrap() - requests_before[path].as_u64().unwrap();
        assert_eq!(delta, pages, "{path}: {requests}");
    }
    for (n, app) in apps.iter().enumerate() {
        let target = location.target("active", app);
        assert_eq!(target.as_array().unwrap().len(), 2, "app-{n} scaled to 2");
        assert_eq!(target[1]["targets"], json!([format!("app-{n}.cloudapps.test")]));
        let (org, space) = if n == 3 {
            ("other-org", "staging")
        } else {
            ("gds", "production")
        };
        assert_eq!(target[1]["labels"]["org"], org);
        assert_eq!(target[1]["labels"]["space"], space);
    }
}

#[test]
fn a_blue_green_deploy_scrapes_both_apps_under_one_job_then_only_the_new_one() {
    let location = Location::directory();
    let blue = guid(1);
    let green = guid(2);
    let cf = CfApi::start(&json!([app(&blue, "notify-api", 2)]));
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    bind_all(&platform, std::slice::from_ref(&blue));

    // `cf rename notify-api notify-api-venerable`, then `cf push notify-api` (a new app
    // on the same route) and its binding, as blue-green deploy plugins do.
    cf.change(&blue, json!({"action": "rename", "name": "notify-api-venerable"}));
    cf.admin("/admin/apps", app(&green, "notify-api", 1));
    assert_eq!(platform.bind(INSTANCE, "binding-green", &green).status, 201);
    update(&cf, &location);
    assert_eq!(location.guids("active"), [blue.clone(), green.clone()]);
    for guid in [&blue, &green] {
        assert!(
            labels(&location, "active", guid)
                .iter()
                .all(|l| l["job"] == "notify-api"),
            "one job for both halves of the deploy"
        );
    }
    assert_eq!(
        labels(&location, "active", &blue)[1]["instance"],
        format!("{blue}:1")
    );
    assert_eq!(
        labels(&location, "active", &green)[0]["instance"],
        format!("{green}:0")
    );

    // `cf delete notify-api-venerable`, never unbound: only the new app is left.
    cf.change(&blue, json!({"action": "delete"}));
    update(&cf, &location);
    assert_eq!(location.guids("active"), [green]);
}

#[test]
fn two_updaters_racing_a_broker_on_s3_never_bring_back_an_unbound_app() {
    let location = Location::s3();
    let (apps, cf) = numbered_apps(12);
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    bind_all(&platform, &apps[..8]);

    let updaters = [
        Process::updater(&cf, &location, "1s"),
        Process::updater(&cf, &location, "1s"),
    ];
    // While both updaters run: scale everything (so they keep writing), unbind four apps
    // and bind four new ones.
    for (n, app) in apps.iter().enumerate() {
        cf.change(app, json!({"action": "scale", "instances": 2 + n as u32 % 3}));
    }
    for n in 0..4 {
        assert_eq!(platform.unbind(INSTANCE, &format!("binding-{n}")).status, 200);
        assert_eq!(
            platform
                .bind(INSTANCE, &format!("binding-{}", n + 8), &apps[n + 8])
                .status,
            201
        );
    }
    let bound: Vec<String> = apps[4..].to_vec();
    // Two more periods of both updaters: the unbound apps stay gone, the rest converge.
    eventually(
        "every bound app's file is up to date",
        Duration::from_secs(30),
        || {
            location.guids("active") == bound
                && bound.iter().enumerate().all(|(i, app)| {
                    location.target("active", app).as_array().unwrap().len() == 2 + (i + 4) % 3
                })
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        location.guids("active"),
        bound,
        "an updater brought back an unbound app"
    );
    for updater in updaters {
        let metrics = http(&updater.url, "GET", "/metrics", &[], b"").text;
        assert!(
            metrics.contains("gds_prometheus_updater_last_success_timestamp_seconds"),
            "{metrics}"
        );
        assert!(
            metrics.contains(r#"gds_prometheus_updater_apps{state="started"}"#),
            "{metrics}"
        );
    }
}

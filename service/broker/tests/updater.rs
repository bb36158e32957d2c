//! The target updater against the Cloud Controller stand-in, on a directory and on S3:
//! scale, stop, start, blue-green rename, delete without unbind, a failed listing, and a
//! broker and updater killed mid-write; then two updaters racing a broker on S3.

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

/// Every app the store has a binding record for, from the files on disk.
fn recorded_bindings(location: &Location) -> BTreeSet<String> {
    location
        .snapshot()
        .into_iter()
        .filter_map(|(name, _)| {
            name.strip_prefix("bindings/")
                .map(|rest| rest.split('/').next().unwrap().to_owned())
        })
        .collect()
}

/// `count` apps named `app-<n>`, one instance each, served by a fresh stand-in.
fn numbered_apps(count: u32) -> (Vec<String>, CfApi) {
    let apps: Vec<String> = (1..=count).map(guid).collect();
    let world: Vec<Value> = apps
        .iter()
        .enumerate()
        .map(|(n, g)| app(g, &format!("app-{n}"), 1))
        .collect();
    (apps.clone(), CfApi::start(&Value::Array(world)))
}

#[test]
fn a_broker_and_an_updater_killed_mid_write_lose_nothing_and_leave_nothing() {
    let location = Location::directory();
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

    // The platform retries every bind on the restarted broker: all answered, nothing lost.
    let broker = Process::broker(&cf, &location);
    let platform = Platform { broker: &broker.url };
    for (n, app) in apps.iter().enumerate() {
        let status = platform.bind(INSTANCE, &format!("binding-{n}"), app).status;
        assert!(status == 200 || status == 201, "retry of binding-{n}: {status}");
    }
    assert_eq!(location.guids("active"), apps);
    assert!(location.temporaries().is_empty());

    // An updater killed while it rewrites every file (all scaled), then run again.
    for app in &apps {
        cf.change(app, json!({"action": "scale", "instances": 2}));
    }
    let updater = Process::updater(&cf, &location, "1s");
    eventually("some rewrites", Duration::from_secs(30), || {
        apps.iter()
            .any(|a| location.target("active", a).as_array().unwrap().len() == 2)
    });
    updater.kill_hard();
    update(&cf, &location);
    assert!(apps
        .iter()
        .all(|a| location.target("active", a).as_array().unwrap().len() == 2));

    // Unbinds killed half-way, retried: 200 or 410, and nothing left behind.
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

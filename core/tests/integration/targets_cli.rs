//! The `gds-metrics-targets` command as a shell script uses it: arguments, stdin, stdout,
//! stderr and the exit status.
#![cfg(feature = "cli")]

use gds_metrics::targets::{render_target_file, AppFacts, AppGuid, Folder, TargetStore};
use std::fs;
use std::io::Write;
use std::process::{Command, Output, Stdio};

const GUID_1: &str = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8";
const GUID_2: &str = "0b7c9d2e-1f3a-4b5c-8d6e-7f8a9b0c1d2e";

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gds-metrics-targets"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn facts_json(guid: &str, extra: &str) -> String {
    format!(
        r#"{{"guid": "{guid}", "name": "notify-api-venerable", "instances": 2,
             "route_host": "notify-api.cloudapps.digital", "route_path": "/api",
             "org": "govuk-notify", "space": "production"{extra}}}"#
    )
}

fn facts(guid: &str) -> AppFacts {
    AppFacts::from_json(facts_json(guid, "").as_bytes(), "test").unwrap()
}

#[test]
fn render_prints_the_target_file_for_facts_on_stdin() {
    let output = run(&["render"], &facts_json(GUID_1, ""));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), render_target_file(&facts(GUID_1)).unwrap());
    assert_eq!(stderr(&output), "");
}

#[test]
fn render_reads_a_file_argument() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.json");
    fs::write(&file, facts_json(GUID_1, r#", "exporter": true"#)).unwrap();
    let output = run(&["render", file.to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let mut exporter = facts(GUID_1);
    exporter.exporter = true;
    assert_eq!(stdout(&output), render_target_file(&exporter).unwrap());
    assert!(!stdout(&output).contains("\"space\""));
}

#[test]
fn render_rejects_bad_facts_with_status_1_and_prints_nothing() {
    let output = run(&["render"], &facts_json(&GUID_1.to_uppercase(), ""));
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(message.starts_with("gds-metrics-targets: <stdin>: not valid app facts: invalid app GUID"));
    assert!(message.contains("it holds upper-case letters"), "{message}");
}

#[test]
fn render_of_a_missing_file_fails_with_status_1() {
    let output = run(&["render", "/nonexistent/app.json"], "");
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with("gds-metrics-targets: cannot read `/nonexistent/app.json`: "));
}

#[test]
fn usage_errors_exit_with_status_2() {
    for args in [
        &["frobnicate"][..],
        &["validate"],
        &["plan"],
        &["render", "--colour"],
        &[],
    ] {
        let output = run(args, "");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        assert_eq!(stdout(&output), "", "{args:?}");
    }
}

#[test]
fn every_command_has_help_with_the_exit_codes() {
    for command in ["render", "validate", "plan", "apply"] {
        let output = run(&[command, "--help"], "");
        assert_eq!(output.status.code(), Some(0), "{command}");
        assert!(
            stdout(&output).contains("Exit status: 0 success; 1 invalid input"),
            "{command}"
        );
    }
}

#[test]
fn validate_reports_every_bad_file_with_its_group_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = TargetStore::open(dir.path()).unwrap();
    let guid = AppGuid::parse(GUID_1).unwrap();
    store
        .write(
            Folder::Active,
            &guid,
            render_target_file(&facts(GUID_1)).unwrap().as_bytes(),
        )
        .unwrap();
    let bad = store.folder_path(Folder::Inactive).join(format!("{GUID_2}.json"));
    fs::write(
        &bad,
        r#"[{"targets": ["h"]}, {"targets": ["h"], "labels": {"job": 7}}]"#,
    )
    .unwrap();

    let output = run(&["validate", dir.path().to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!(
            "{}: ok, 2 group(s)\n",
            store.path(Folder::Active, &guid).display()
        )
    );
    assert_eq!(
        stderr(&output),
        format!(
            "gds-metrics-targets: {}: group 1: invalid type: integer `7`, expected a string\n",
            bad.display()
        )
    );

    fs::remove_file(&bad).unwrap();
    let output = run(&["validate", dir.path().to_str().unwrap()], "");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

fn desired_state() -> String {
    format!(
        r#"[{}, {{"guid": "{GUID_2}", "state": "deleted"}}]"#,
        facts_json(GUID_1, r#", "state": "started""#)
    )
}

#[test]
fn plan_prints_operations_and_touches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("targets");
    let output = run(&["plan", "--dir", root.to_str().unwrap()], &desired_state());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), format!("write active/{GUID_1}.json\n"));
    assert!(!root.exists());
}

#[test]
fn apply_writes_the_plan_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = TargetStore::open(dir.path()).unwrap();
    let deleted = AppGuid::parse(GUID_2).unwrap();
    store.write(Folder::Active, &deleted, b"[]\n").unwrap();
    let root = dir.path().to_str().unwrap();

    let output = run(&["apply", "--dir", root], &desired_state());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!("remove active/{GUID_2}.json: removed\nwrite active/{GUID_1}.json: written\n")
    );
    let written = store.path(Folder::Active, &AppGuid::parse(GUID_1).unwrap());
    assert_eq!(
        fs::read_to_string(written).unwrap(),
        render_target_file(&facts(GUID_1)).unwrap()
    );
    assert!(!store.path(Folder::Active, &deleted).exists());

    let again = run(&["apply", "--dir", root], &desired_state());
    assert_eq!(stdout(&again), format!("write active/{GUID_1}.json: unchanged\n"));
}

#[test]
fn apply_with_one_bad_app_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = facts_json(GUID_2, r#", "state": "started""#).replace("notify-api.cloudapps.digital", "");
    let input = format!("[{}, {bad}]", facts_json(GUID_1, r#", "state": "started""#));
    let input_file = dir.path().join("desired.json");
    fs::write(&input_file, input).unwrap();
    let root = dir.path().join("targets");

    let output = run(
        &[
            "apply",
            "--dir",
            root.to_str().unwrap(),
            input_file.to_str().unwrap(),
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        format!(
            "gds-metrics-targets: app `{GUID_2}`: field `route_host` is empty; give the host of the app's \
             route, such as `my-app.cloudapps.digital`\n"
        )
    );
    assert!(!root.exists());
}

#[test]
fn apply_rejects_a_desired_state_that_is_not_an_array() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(
        &["apply", "--dir", dir.path().to_str().unwrap()],
        &facts_json(GUID_1, ""),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with(
            "gds-metrics-targets: <stdin>: not a valid desired state (a JSON array of bound apps): invalid type: map"
        ),
        "{}",
        stderr(&output)
    );
}

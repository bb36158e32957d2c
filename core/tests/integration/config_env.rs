//! Every configuration variable with good and bad values, read through an injected
//! environment; errors name the variable and never echo the token.

use gds_metrics::{Config, ConfigError};

const GUID: &str = "6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c";

fn build(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    build_with(Config::builder(), vars)
}

fn build_with(builder: gds_metrics::ConfigBuilder, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    builder.build_with_env(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
}

fn vcap() -> String {
    format!(r#"{{"application_id":"{GUID}","application_name":"app","instance_index":2}}"#)
}

fn error_message(vars: &[(&str, &str)]) -> String {
    let message = build(vars).expect_err("a configuration error").to_string();
    assert!(!message.contains(GUID), "the token leaked: {message}");
    message
}

#[test]
fn empty_environment_gives_defaults_with_auth_off() {
    let config = build(&[]).unwrap();
    assert!(!config.auth_enabled());
    assert_eq!(config.metrics_path(), "/metrics");
    assert_eq!(config.instance_index(), None);
    assert_eq!(config.multiprocess_dir(), None);
    assert!(config.warnings().is_empty());
}

#[test]
fn vcap_application_turns_auth_on() {
    assert!(build(&[("VCAP_APPLICATION", &vcap())]).unwrap().auth_enabled());
}

#[test]
fn bad_vcap_application_is_an_error_naming_the_variable() {
    let cases = [
        ("", "`VCAP_APPLICATION` is not valid JSON"),
        ("not json", "`VCAP_APPLICATION` is not valid JSON"),
        ("{\"application_id\":", "`VCAP_APPLICATION` is not valid JSON"),
        ("[1,2]", "`VCAP_APPLICATION` is JSON but not an object"),
        ("\"6b0b3c4e\"", "`VCAP_APPLICATION` is JSON but not an object"),
        ("null", "`VCAP_APPLICATION` is JSON but not an object"),
        ("{}", "`VCAP_APPLICATION` has no `application_id`"),
        (
            "{\"application_id\":null}",
            "`VCAP_APPLICATION` has an `application_id` that is not a string",
        ),
        (
            "{\"application_id\":42}",
            "`VCAP_APPLICATION` has an `application_id` that is not a string",
        ),
        (
            "{\"application_id\":\"\"}",
            "`VCAP_APPLICATION` has an empty `application_id`",
        ),
        (
            "{\"application_id\":\"a b\"}",
            "`VCAP_APPLICATION` has an `application_id` with whitespace",
        ),
        (
            "{\"application_id\":\"gü\"}",
            "`VCAP_APPLICATION` has an `application_id` with whitespace",
        ),
    ];
    for (value, start) in cases {
        let message = error_message(&[("VCAP_APPLICATION", value)]);
        assert!(message.starts_with(start), "{value}: {message}");
    }
}

#[test]
fn bad_vcap_application_is_an_error_even_with_auth_switched_off() {
    let message = error_message(&[("VCAP_APPLICATION", "{"), ("METRICS_BASIC_AUTH", "false")]);
    assert!(message.starts_with("`VCAP_APPLICATION` is not valid JSON"));
}

#[test]
fn vcap_application_error_never_echoes_the_value() {
    let value = format!(r#"{{"application_id":"{GUID}" trailing"#);
    let message = error_message(&[("VCAP_APPLICATION", &value)]);
    assert!(!message.contains("trailing"));
}

#[test]
fn auth_switch_accepts_only_true_and_false() {
    let on_paas = vcap();
    for (value, on) in [
        ("true", true),
        ("TRUE", true),
        ("True", true),
        ("false", false),
        ("FALSE", false),
        ("fAlSe", false),
    ] {
        let config = build(&[("VCAP_APPLICATION", &on_paas), ("METRICS_BASIC_AUTH", value)]).unwrap();
        assert_eq!(config.auth_enabled(), on, "{value}");
    }
    for value in ["1", "0", "yes", "no", "on", "off", "", " true", "truee"] {
        let message = error_message(&[("VCAP_APPLICATION", &on_paas), ("METRICS_BASIC_AUTH", value)]);
        assert_eq!(
            message,
            format!("`METRICS_BASIC_AUTH` must be `true` or `false` (any case), got `{value}`; unset it to keep auth on")
        );
    }
}

#[test]
fn metrics_path_is_validated() {
    assert_eq!(
        build(&[("PROMETHEUS_METRICS_PATH", "/internal/metrics")])
            .unwrap()
            .metrics_path(),
        "/internal/metrics"
    );
    let cases = [
        ("metrics", "start with `/`"),
        ("", "start with `/`"),
        ("/metrics?x=1", "hold no query (`?`) or fragment (`#`)"),
        ("/metrics#top", "hold no query (`?`) or fragment (`#`)"),
        ("/my metrics", "hold no whitespace or control characters"),
        ("/metrics\n", "hold no whitespace or control characters"),
    ];
    for (value, rule) in cases {
        let message = error_message(&[("PROMETHEUS_METRICS_PATH", value)]);
        assert_eq!(
            message,
            format!("`PROMETHEUS_METRICS_PATH` must {rule}, got `{value}`; use a path such as `/metrics`")
        );
    }
}

#[test]
fn instance_index_is_read_and_bad_values_only_warn() {
    assert_eq!(
        build(&[("CF_INSTANCE_INDEX", "3")]).unwrap().instance_index(),
        Some(3)
    );
    for value in ["abc", "-1", "", "1.5", "99999999999"] {
        let config = build(&[("CF_INSTANCE_INDEX", value)]).unwrap();
        assert_eq!(config.instance_index(), None, "{value}");
        assert_eq!(
            config.warnings()[0].to_string(),
            format!("`CF_INSTANCE_INDEX` is not a decimal number (got `{value}`); ignoring it")
        );
    }
}

#[test]
fn multiprocess_dir_is_created_and_read_from_each_variable() {
    let base = std::env::temp_dir().join(format!("gds-metrics-config-{}", std::process::id()));
    for name in [
        "PROMETHEUS_MULTIPROC_DIR",
        "prometheus_multiproc_dir",
        "MMAP_DIRECTORY",
    ] {
        let dir = base.join(name);
        let config = build(&[(name, dir.to_str().unwrap())]).unwrap();
        assert_eq!(config.multiprocess_dir(), Some(dir.as_path()));
        assert!(dir.is_dir());
    }
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn unusable_multiprocess_dir_is_an_error() {
    let file = std::env::temp_dir().join(format!("gds-metrics-config-file-{}", std::process::id()));
    std::fs::write(&file, b"").unwrap();
    let under_file = file.join("sub");
    let message = error_message(&[("PROMETHEUS_MULTIPROC_DIR", under_file.to_str().unwrap())]);
    assert!(
        message.starts_with(&format!(
            "`PROMETHEUS_MULTIPROC_DIR` names `{}`, which cannot be created",
            under_file.display()
        )),
        "{message}"
    );
    let message = error_message(&[("PROMETHEUS_MULTIPROC_DIR", file.to_str().unwrap())]);
    assert!(
        message.contains("which cannot be created") || message.contains("is not a directory"),
        "{message}"
    );
    let message = error_message(&[("MMAP_DIRECTORY", "")]);
    assert_eq!(
        message,
        "`MMAP_DIRECTORY` names ``, which is empty; point it at a writable directory"
    );
    std::fs::remove_file(&file).unwrap();
}

#[test]
fn code_wins_over_the_environment() {
    let env = [
        ("VCAP_APPLICATION", "{ broken"),
        ("METRICS_BASIC_AUTH", "false"),
        ("PROMETHEUS_METRICS_PATH", "broken"),
        ("CF_INSTANCE_INDEX", "x"),
    ];
    let config = build_with(
        Config::builder()
            .application_id("code-guid")
            .auth_enabled(true)
            .metrics_path("/m")
            .instance_index(7),
        &env,
    )
    .unwrap();
    assert!(config.auth_enabled());
    assert_eq!(config.metrics_path(), "/m");
    assert_eq!(config.instance_index(), Some(7));
    assert!(config.warnings().is_empty());
}

#[test]
fn auth_switched_off_in_code_wins_over_vcap_application() {
    let config = build_with(
        Config::builder().auth_enabled(false),
        &[("VCAP_APPLICATION", &vcap())],
    )
    .unwrap();
    assert!(!config.auth_enabled());
}

#[test]
fn auth_switched_on_in_code_without_application_id_is_off_with_a_warning() {
    let config = build_with(Config::builder().auth_enabled(true), &[]).unwrap();
    assert!(!config.auth_enabled());
    assert_eq!(config.warnings().len(), 1);
    assert!(config.warnings()[0].0.contains("not on the PaaS"));
}

#[test]
fn auth_switch_true_off_the_paas_leaves_auth_off() {
    assert!(!build(&[("METRICS_BASIC_AUTH", "true")]).unwrap().auth_enabled());
}

#[test]
fn bad_values_given_in_code_are_errors() {
    let error = build_with(Config::builder().application_id(""), &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the application id given in code is empty; pass the app GUID"
    );
    let error = build_with(Config::builder().metrics_path("metrics"), &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the metrics path given in code must start with `/`, got `metrics`; use a path such as `/metrics`"
    );
}

#[test]
fn debug_output_never_shows_the_token() {
    let config = build(&[("VCAP_APPLICATION", &vcap())]).unwrap();
    assert!(!format!("{config:?}").contains(GUID));
}

//! Runs the upload exporter.
//!
//! ```text
//! upload-exporter [--config <file.toml>] [--source <dir|s3://bucket/prefix>]... [--dir <path>]
//!                 [--refresh-interval <seconds>]
//! ```
//! Sources come from `--source` (several allowed), `--dir`, `UPLOAD_DIR` and the
//! configuration file's `sources`; deadlines and listing limits from the file (see
//! `config.rs` and the README). S3 endpoint and credentials come from the AWS variables.
//! The server listens on `BIND_ADDRESS` (default `0.0.0.0`) port `PORT` (default `8080`;
//! Cloud Foundry sets it). Auth and the metrics path come from the usual gds-metrics
//! variables (`VCAP_APPLICATION`, `METRICS_BASIC_AUTH`, `PROMETHEUS_METRICS_PATH`).

use gds_metrics::targets::aws_settings_from_env;
use gds_metrics::{Config, Endpoint, Registry};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use upload_exporter::config::Settings;
use upload_exporter::source::Source;
use upload_exporter::watch::{refresh_all, refresh_forever, Watched};
use upload_exporter::{app, Prober, UploadCollector};

const USAGE: &str = "usage: upload-exporter [--config <file.toml>] [--source <dir|s3://bucket/prefix>]... \
                     [--dir <path>] [--refresh-interval <seconds>]";

fn settings() -> Result<Settings, String> {
    let mut settings = Settings::default();
    let mut args = std::env::args().skip(1);
    let mut config_file: Option<PathBuf> = None;
    let mut refresh: Option<u64> = None;
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("`{arg}` needs {what}; {USAGE}"));
        match arg.as_str() {
            "--config" => config_file = Some(value("a file")?.into()),
            "--source" | "--dir" => settings.sources.push(value("a location")?),
            "--refresh-interval" => {
                let text = value("a number of seconds")?;
                refresh = Some(text.parse().ok().filter(|n| *n > 0).ok_or(format!(
                    "`--refresh-interval` must be a whole number of seconds, at least 1, got `{text}`"
                ))?);
            }
            other => return Err(format!("unknown argument `{other}`; {USAGE}")),
        }
    }
    if settings.sources.is_empty() {
        settings.sources.extend(std::env::var("UPLOAD_DIR").ok());
    }
    if let Some(file) = config_file {
        settings.read_file(&file)?;
    }
    if let Some(seconds) = refresh {
        settings.refresh_interval = Duration::from_secs(seconds);
    }
    settings.finish()
}

fn listen_address() -> Result<SocketAddr, String> {
    let port = match std::env::var("PORT") {
        Ok(port) => port
            .parse::<u16>()
            .map_err(|_| format!("`PORT` must be a port number, got `{port}`"))?,
        Err(_) => 8080,
    };
    let host = std::env::var("BIND_ADDRESS").unwrap_or_else(|_| "0.0.0.0".to_owned());
    let ip = host
        .parse()
        .map_err(|_| format!("`BIND_ADDRESS` must be an IP address, got `{host}`"))?;
    Ok(SocketAddr::new(ip, port))
}

fn watched(settings: &Settings, aws: &[(String, String)]) -> Result<Vec<Arc<Watched>>, String> {
    settings
        .sources
        .iter()
        .map(|location| {
            Ok(Arc::new(Watched::new(
                Source::parse(location, aws)?,
                location.clone(),
            )))
        })
        .collect()
}

fn endpoint(config: Config, collector: UploadCollector) -> Result<Arc<Endpoint>, String> {
    let registry = Arc::new(Registry::new());
    registry
        .register(Arc::new(collector))
        .map_err(|e| e.to_string())?;
    Endpoint::new(config, registry)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("upload-exporter: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = settings()?;
    let addr = listen_address()?;
    let aws = aws_settings_from_env();
    let watched = watched(&settings, &aws)?;
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let collector =
        UploadCollector::new(watched.clone(), settings.deadlines.clone()).map_err(|e| e.to_string())?;
    let endpoint = endpoint(config.clone(), collector)?;
    let prober = Arc::new(Prober::new(
        config,
        aws,
        settings.list_timeout,
        settings.list_concurrency,
    ));
    // The first scrape already sees a listing.
    refresh_all(&watched, settings.list_timeout, settings.list_concurrency).await;
    tokio::spawn(refresh_forever(
        watched,
        settings.refresh_interval,
        settings.list_timeout,
        settings.list_concurrency,
    ));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The first line on stdout says where to scrape; tests wait for it.
    println!(
        "upload-exporter: serving http://{addr}{} for {} (auth {})",
        endpoint.config().metrics_path(),
        settings.sources.join(", "),
        if endpoint.config().auth_enabled() {
            "on"
        } else {
            "off"
        }
    );
    let _ = std::io::stdout().flush();
    axum::serve(listener, app(endpoint, prober))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| e.to_string())
}

/// Resolves on Ctrl-C or SIGTERM (what Cloud Foundry sends before stopping an instance).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

//! Runs the upload exporter; `upload-exporter --help` lists every option and the
//! environment variable each one may come from.
//!
//! Sources come from `--source` (several allowed), `--dir`, `UPLOAD_DIR` and the
//! configuration file's `sources`; deadlines and listing limits from the file (see
//! `config.rs` and the README). S3 endpoint and credentials come from the AWS variables.
//! Auth and the metrics path come from the usual gds-metrics variables
//! (`VCAP_APPLICATION`, `METRICS_BASIC_AUTH`, `PROMETHEUS_METRICS_PATH`).

use clap::Parser;
use gds_metrics::serve::{serve, ServerLimits};
use gds_metrics::targets::aws_settings_from_env;
use gds_metrics::{Config, Endpoint, Registry};
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use upload_exporter::config::Settings;
use upload_exporter::source::Source;
use upload_exporter::state::StateStore;
use upload_exporter::watch::{load_arrivals, refresh_all, refresh_forever, Refresh, Watched};
use upload_exporter::{app, Prober, UploadCollector};

/// A Prometheus exporter for files that must arrive by a deadline, in local directories
/// and S3 prefixes; `/probe` answers like s3_exporter.
#[derive(Parser)]
#[command(
    version,
    after_help = "Also read: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, \
                  AWS_ALLOW_HTTP (S3); VCAP_APPLICATION, METRICS_BASIC_AUTH, PROMETHEUS_METRICS_PATH \
                  (auth and the metrics path, as every gds-metrics app)."
)]
struct Args {
    /// A TOML file with sources, deadlines and listing limits.
    #[arg(long, value_name = "FILE", env = "UPLOAD_EXPORTER_CONFIG")]
    config: Option<PathBuf>,
    /// A location to watch: a directory or s3://bucket/prefix (repeat for several).
    #[arg(long, visible_alias = "dir", value_name = "DIR|s3://BUCKET/PREFIX")]
    source: Vec<String>,
    /// A directory to watch when no --source is given.
    #[arg(long = "upload-dir", value_name = "DIR", env = "UPLOAD_DIR")]
    upload_dir: Option<String>,
    /// Seconds between listings (overrides the configuration file).
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    refresh_interval: Option<u64>,
    /// The port to listen on (Cloud Foundry sets PORT).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    port: u16,
    /// The address to listen on.
    #[arg(long, env = "BIND_ADDRESS", default_value = "0.0.0.0")]
    bind_address: IpAddr,
    /// Where to keep, per prefix, the newest arrival seen, so a file deleted after it
    /// arrived still counts for its deadline after a restart (memory only without it): a
    /// local file, or s3://bucket/.folder/arrivals.json, which outlives an ephemeral disk.
    #[arg(
        long,
        value_name = "FILE|s3://BUCKET/.FOLDER/NAME",
        env = "UPLOAD_EXPORTER_STATE_FILE"
    )]
    state_file: Option<String>,
}

impl Args {
    fn settings(&self) -> Result<Settings, String> {
        let mut settings = Settings::default();
        settings.sources.extend(self.source.iter().cloned());
        if settings.sources.is_empty() {
            settings.sources.extend(self.upload_dir.clone());
        }
        if let Some(file) = &self.config {
            settings.read_file(file)?;
        }
        if let Some(seconds) = self.refresh_interval {
            settings.refresh_interval = Duration::from_secs(seconds);
        }
        settings.finish()
    }
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
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("upload-exporter: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<(), String> {
    let settings = args.settings()?;
    let addr = SocketAddr::new(args.bind_address, args.port);
    let aws = aws_settings_from_env();
    let watched = watched(&settings, &aws)?;
    let state = match &args.state_file {
        Some(location) => Some(Arc::new(StateStore::parse(location, &aws)?)),
        None => None,
    };
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let collector =
        UploadCollector::new(watched.clone(), settings.deadlines.clone()).map_err(|e| e.to_string())?;
    let endpoint = endpoint(config.clone(), collector)?;
    let prober = Prober::new(config, aws, settings.list_timeout, settings.list_concurrency)
        .map_err(|e| e.to_string())?;
    let refresh = Refresh {
        timeout: settings.list_timeout,
        concurrency: settings.list_concurrency,
        state,
    };
    if let Some(state) = &refresh.state {
        load_arrivals(state, &watched).await?;
    }
    // The first scrape already sees a listing.
    refresh_all(&watched, &refresh).await;
    tokio::spawn(refresh_forever(watched, settings.refresh_interval, refresh));
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
    let app = app(endpoint, Arc::new(prober));
    serve(listener, app, ServerLimits::default(), shutdown_signal()).await;
    Ok(())
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

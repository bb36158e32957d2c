//! `gds-metrics-targets sync`: the loop around `gds_metrics::targets::sync_to_directory`
//! and the HTTP listener that serves the sync's own metrics.

use super::print;
use clap::Args;
use gds_metrics::axum::MetricsLayer;
use gds_metrics::serve::{serve, ServerLimits};
use gds_metrics::targets::{sync_to_directory, S3Location, S3Store, SyncMetrics, SyncReport, TargetsError};
use gds_metrics::{Config, Endpoint, Registry};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub(crate) struct SyncArgs {
    /// The S3 folder to copy, usually the store's `active/`: `s3://bucket/prefix/active`.
    source: String,
    /// The directory Prometheus' `file_sd_configs` reads (`<dir>/*.json`).
    dir: PathBuf,
    /// Sync once and exit: status 0 when every object was applied, 1 otherwise.
    #[arg(long, conflicts_with = "interval")]
    once: bool,
    /// Seconds between syncs when running continuously.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    interval: u64,
    /// Serve the sync's own metrics on this port (`/metrics`, no auth); 0 picks a free port.
    #[arg(long, value_name = "PORT")]
    metrics_port: Option<u16>,
    /// The address the metrics listener binds.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    metrics_address: IpAddr,
}

pub(crate) fn run(args: &SyncArgs) -> Result<ExitCode, TargetsError> {
    let source = S3Store::from_env(&S3Location::parse(&args.source)?)?;
    let registry = Arc::new(Registry::new());
    let metrics = SyncMetrics::register(&registry).map_err(invalid_setup)?;
    if let Some(port) = args.metrics_port {
        serve_metrics(SocketAddr::new(args.metrics_address, port), registry)?;
    }
    loop {
        let result = sync_to_directory(&source, &args.dir);
        metrics.record(&result, &args.dir);
        let all_applied = report(&args.source, &args.dir, &result)?;
        if args.once {
            return Ok(if all_applied {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        std::thread::sleep(Duration::from_secs(args.interval));
    }
}

/// Prints what a sync did, each rejected object on stderr; true when nothing was rejected.
fn report(source: &str, dir: &Path, result: &Result<SyncReport, TargetsError>) -> Result<bool, TargetsError> {
    match result {
        Ok(report) => {
            for rejected in &report.rejected {
                eprintln!("gds-metrics-targets: not applied (the previous file stays): {rejected}");
            }
            print(&format!(
                "sync {source} -> {}: {} written, {} unchanged, {} removed, {} rejected\n",
                dir.display(),
                report.written,
                report.unchanged,
                report.removed,
                report.rejected.len()
            ))?;
            Ok(report.rejected.is_empty())
        }
        Err(error) => {
            eprintln!("gds-metrics-targets: sync failed, nothing changed: {error}");
            Ok(false)
        }
    }
}

/// Serves `registry` on `addr` from a background thread; prints the URL once listening.
///
/// The listener is the core's HTTP server ([`gds_metrics::serve`]) around an empty router
/// behind [`MetricsLayer`], so the metrics path gets the endpoint (negotiation, gzip) and
/// anything else a counted `404`; a slow or idle client holds only its own connection.
fn serve_metrics(addr: SocketAddr, registry: Arc<Registry>) -> Result<(), TargetsError> {
    let config = Config::builder()
        .auth_enabled(false)
        .build()
        .map_err(invalid_setup)?;
    let endpoint = Arc::new(Endpoint::new(config, registry).map_err(invalid_setup)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| remote_setup(addr, e))?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(addr))
        .map_err(|e| remote_setup(addr, e))?;
    let bound = listener.local_addr().map_err(|e| remote_setup(addr, e))?;
    print(&format!(
        "gds-metrics-targets: metrics on http://{bound}/metrics\n"
    ))?;
    let app = axum::Router::new().layer(MetricsLayer::new(endpoint));
    std::thread::spawn(move || {
        runtime.block_on(serve(
            listener,
            app,
            ServerLimits::default(),
            std::future::pending(),
        ));
    });
    Ok(())
}

fn invalid_setup(error: impl std::fmt::Display) -> TargetsError {
    TargetsError::InvalidInput {
        source_name: "the sync's metrics".to_owned(),
        reason: error.to_string(),
    }
}

fn remote_setup(addr: SocketAddr, error: std::io::Error) -> TargetsError {
    TargetsError::Remote {
        action: "listen for metrics on",
        location: addr.to_string(),
        reason: format!("{error}; pick another --metrics-port"),
    }
}

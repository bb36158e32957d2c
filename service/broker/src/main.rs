//! Runs the broker or the target updater.
//!
//! ```text
//! gds-prometheus-broker                    the Open Service Broker API on PORT
//! gds-prometheus-broker update --every 5m  the updater, forever, with /metrics on PORT
//! gds-prometheus-broker update --once      one updater run; prints what it did
//! ```
//! Settings come from the environment (see the README): `PORT`, `BROKER_USERNAME`,
//! `BROKER_PASSWORD` (broker only), `CF_API_URL`, `CF_CLIENT_ID`, `CF_CLIENT_SECRET`,
//! `TARGETS_LOCATION` and the AWS variables for an S3 store.

use gds_metrics::axum::MetricsLayer;
use gds_metrics::targets::{open_store, Store};
use gds_metrics::Registry;
use gds_prometheus_broker::broker::Broker;
use gds_prometheus_broker::cc::CloudController;
use gds_prometheus_broker::config::{BrokerCredentials, Settings};
use gds_prometheus_broker::metrics::{endpoint, BrokerMetrics, UpdaterMetrics};
use gds_prometheus_broker::updater::{run_once, RunError};
use gds_prometheus_broker::{osb, parse_period, redact_guids};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: gds-prometheus-broker [update (--every <period> | --once)]";

enum Mode {
    Broker,
    UpdateEvery(Duration),
    UpdateOnce,
}

fn mode() -> Result<Mode, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] => Ok(Mode::Broker),
        ["update", "--once"] => Ok(Mode::UpdateOnce),
        ["update", "--every", period] => Ok(Mode::UpdateEvery(parse_period(period)?)),
        _ => Err(format!("unexpected arguments `{}`; {USAGE}", args.join(" "))),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("gds-prometheus-broker: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode, String> {
    let mode = mode()?;
    let env = |name: &str| std::env::var(name).ok();
    let settings = Settings::from_env(&env)?;
    let credentials = match mode {
        Mode::Broker => Some(BrokerCredentials::from_env(&env)?),
        _ => None,
    };
    // Opened outside the async runtime: an S3 store runs its own.
    let store = open_store(&settings.targets_location).map_err(|e| format!("`TARGETS_LOCATION`: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let cc = Arc::new(CloudController::new(settings.cloud_controller.clone())?);
    match (mode, credentials) {
        (Mode::Broker, Some(credentials)) => serve_broker(&runtime, store, cc, credentials, &settings),
        (Mode::UpdateOnce, _) => update_once(&runtime, &*store, &cc),
        (Mode::UpdateEvery(period), _) => update_forever(&runtime, store, cc, period, &settings),
        (Mode::Broker, None) => unreachable!("the broker's credentials are read above"),
    }
}

fn serve_broker(
    runtime: &tokio::runtime::Runtime,
    store: Box<dyn Store>,
    cc: Arc<CloudController>,
    credentials: BrokerCredentials,
    settings: &Settings,
) -> Result<ExitCode, String> {
    let registry = Arc::new(Registry::new());
    let metrics = Arc::new(BrokerMetrics::register(&registry).map_err(|e| e.to_string())?);
    let broker = Arc::new(Broker::new(store, cc, metrics, runtime.handle().clone()));
    // Kept here so the store is dropped outside the runtime.
    let kept = broker.clone();
    let repair = {
        let broker = broker.clone();
        runtime.block_on(async move { tokio::task::spawn_blocking(move || broker.repair()).await })
    };
    match repair {
        Ok(Ok(done)) => done
            .iter()
            .for_each(|line| println!("gds-prometheus-broker: repair: {line}")),
        Ok(Err(e)) => eprintln!(
            "gds-prometheus-broker: repair at start did not finish: {}",
            redact_guids(&e.description)
        ),
        Err(e) => eprintln!("gds-prometheus-broker: repair at start did not finish: {e}"),
    }
    let app = osb::router(broker, credentials).layer(MetricsLayer::new(endpoint(registry)?));
    let result = runtime.block_on(serve(app, settings));
    drop(kept);
    result
}

async fn serve(app: axum::Router, settings: &Settings) -> Result<ExitCode, String> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.listen))?;
    let address = listener.local_addr().map_err(|e| format!("cannot listen: {e}"))?;
    println!("gds-prometheus-broker: listening on {address}");
    axum::serve(listener, app)
        .with_graceful_shutdown(terminated())
        .await
        .map_err(|e| format!("the server stopped: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM (Cloud Foundry's stop) or Ctrl-C.
async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM can always be handled");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn update_once(
    runtime: &tokio::runtime::Runtime,
    store: &dyn Store,
    cc: &CloudController,
) -> Result<ExitCode, String> {
    let report = run_once(store, cc, runtime.handle()).map_err(|e| redact_guids(&e.to_string()))?;
    for line in &report.operations {
        println!("{line}");
    }
    println!(
        "apps: {} started, {} stopped, {} deleted, {} unroutable; files: {} written, {} removed, {} unchanged",
        report.started, report.stopped, report.deleted, report.unroutable, report.written, report.removed, report.unchanged
    );
    Ok(ExitCode::SUCCESS)
}

fn update_forever(
    runtime: &tokio::runtime::Runtime,
    store: Box<dyn Store>,
    cc: Arc<CloudController>,
    period: Duration,
    settings: &Settings,
) -> Result<ExitCode, String> {
    let registry = Arc::new(Registry::new());
    let metrics = Arc::new(UpdaterMetrics::register(&registry).map_err(|e| e.to_string())?);
    let store: Arc<dyn Store> = Arc::from(store);
    let kept = store.clone();
    let app = axum::Router::new()
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                "the updater serves /metrics only\n",
            )
        })
        .layer(MetricsLayer::new(endpoint(registry)?));
    let handle = runtime.handle().clone();
    runtime.spawn(async move {
        loop {
            let (store, cc, metrics, handle) = (store.clone(), cc.clone(), metrics.clone(), handle.clone());
            let _ =
                tokio::task::spawn_blocking(move || update_and_report(&*store, &cc, &metrics, &handle)).await;
            tokio::time::sleep(period).await;
        }
    });
    let result = runtime.block_on(serve(app, settings));
    drop(kept);
    result
}

fn update_and_report(
    store: &dyn Store,
    cc: &CloudController,
    metrics: &UpdaterMetrics,
    handle: &tokio::runtime::Handle,
) {
    let started = Instant::now();
    match run_once(store, cc, handle) {
        Ok(report) => {
            metrics.success(&report);
            for line in report
                .operations
                .iter()
                .filter(|line| !line.ends_with(": unchanged"))
            {
                println!("gds-prometheus-broker update: {line}");
            }
        }
        Err(error) => {
            metrics.failure(matches!(error, RunError::CloudController(_)));
            eprintln!(
                "gds-prometheus-broker update: {}",
                redact_guids(&error.to_string())
            );
        }
    }
    metrics.duration(started.elapsed().as_secs_f64());
}

//! Runs the upload exporter.
//!
//! ```text
//! upload-exporter [--dir <path>]
//! ```
//! The watched directory comes from `--dir`, else `UPLOAD_DIR`. The server listens on
//! `BIND_ADDRESS` (default `0.0.0.0`) port `PORT` (default `8080`; Cloud Foundry sets it).
//! Auth and the metrics path come from the usual gds-metrics variables
//! (`VCAP_APPLICATION`, `METRICS_BASIC_AUTH`, `PROMETHEUS_METRICS_PATH`).

use gds_metrics::{Config, Endpoint, Registry};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use upload_exporter::{app, UploadCollector};

/// Everything the exporter reads at start-up.
struct Settings {
    dir: PathBuf,
    addr: SocketAddr,
}

fn settings() -> Result<Settings, String> {
    let mut args = std::env::args().skip(1);
    let mut dir = std::env::var_os("UPLOAD_DIR").map(PathBuf::from);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = Some(args.next().ok_or("`--dir` needs a path")?.into()),
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: upload-exporter [--dir <path>]"
                ))
            }
        }
    }
    let dir = dir.ok_or("give the directory to watch with `--dir <path>` or `UPLOAD_DIR`")?;
    if !dir.is_dir() {
        return Err(format!(
            "`{}` is not a directory; create it or fix `--dir`/`UPLOAD_DIR`",
            dir.display()
        ));
    }
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
    Ok(Settings {
        dir,
        addr: SocketAddr::new(ip, port),
    })
}

fn endpoint(dir: PathBuf) -> Result<Arc<Endpoint>, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    let registry = Arc::new(Registry::new());
    let collector = UploadCollector::new(dir).map_err(|e| e.to_string())?;
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
    let endpoint = endpoint(settings.dir.clone())?;
    let listener = tokio::net::TcpListener::bind(settings.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The first line on stdout says where to scrape; tests wait for it.
    println!(
        "upload-exporter: serving http://{addr}{} for {} (auth {})",
        endpoint.config().metrics_path(),
        settings.dir.display(),
        if endpoint.config().auth_enabled() {
            "on"
        } else {
            "off"
        }
    );
    let _ = std::io::stdout().flush();
    axum::serve(listener, app(endpoint))
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

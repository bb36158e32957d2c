//! `gds-metrics-targets sync`: the loop around `gds_metrics::targets::sync_to_directory`
//! and the small HTTP listener that serves the sync's own metrics.

use super::print;
use clap::Args;
use gds_metrics::targets::{sync_to_directory, S3Location, S3Store, SyncMetrics, SyncReport, TargetsError};
use gds_metrics::{Config, Endpoint, Registry, Request};
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Args)]
pub struct SyncArgs {
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

pub fn run(args: &SyncArgs) -> Result<ExitCode, TargetsError> {
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
fn serve_metrics(addr: SocketAddr, registry: Arc<Registry>) -> Result<(), TargetsError> {
    let config = Config::builder()
        .auth_enabled(false)
        .build()
        .map_err(invalid_setup)?;
    let endpoint = Endpoint::new(config, registry).map_err(invalid_setup)?;
    let listener = TcpListener::bind(addr).map_err(|e| remote_setup(addr, e))?;
    let bound = listener.local_addr().map_err(|e| remote_setup(addr, e))?;
    print(&format!(
        "gds-metrics-targets: metrics on http://{bound}/metrics\n"
    ))?;
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // One scraper at a time is all this listener serves; a broken client only
            // loses its own answer.
            let _ = answer(&endpoint, stream);
        }
    });
    Ok(())
}

/// Reads one HTTP/1 request head and writes the endpoint's answer, then closes.
fn answer(endpoint: &Endpoint, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() || headers.len() > 100 {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let request = headers
        .iter()
        .fold(Request::new(method, path), |request, (name, value)| {
            request.header(name, value.as_bytes())
        });
    let response = endpoint.handle(&request);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    )?;
    for (name, value) in &response.headers {
        write!(stream, "{name}: {value}\r\n")?;
    }
    write!(
        stream,
        "content-length: {}\r\nconnection: close\r\n\r\n",
        response.body.len()
    )?;
    stream.write_all(&response.body)?;
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        _ => "",
    }
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

//! The broker's and the updater's own metrics, served at `/metrics` by the core's
//! endpoint (with its usual bearer-token auth when `VCAP_APPLICATION` is set).

use gds_metrics::{Config, Counter, Endpoint, Family, Gauge, Opts, Registry};
use std::sync::Arc;

/// What the broker counts.
pub struct BrokerMetrics {
    requests: Family<Counter>,
    cloud_controller_errors: Counter,
    store_errors: Counter,
}

impl BrokerMetrics {
    /// Registers the broker's series in `registry`; fails only when a name is taken.
    pub fn register(registry: &Registry) -> gds_metrics::Result<BrokerMetrics> {
        Ok(BrokerMetrics {
            requests: registry.counter(
                Opts::new(
                    "gds_prometheus_broker_requests",
                    "Open Service Broker requests, by operation and HTTP status code.",
                )
                .labels(["operation", "code"]),
            )?,
            cloud_controller_errors: registry
                .counter(Opts::new(
                    "gds_prometheus_broker_cloud_controller_errors",
                    "Failed requests to the Cloud Controller or UAA while binding.",
                ))?
                .get()?,
            store_errors: registry
                .counter(Opts::new(
                    "gds_prometheus_broker_store_errors",
                    "Failed reads or writes of the target store.",
                ))?
                .get()?,
        })
    }

    /// Counts one Open Service Broker request by its operation and the status answered.
    pub fn request(&self, operation: &str, code: u16) {
        if let Ok(counter) = self.requests.labels(&[operation, &code.to_string()]) {
            counter.inc();
        }
    }

    /// Counts a bind that the Cloud Controller or UAA failed (answered 502).
    pub fn cloud_controller_error(&self) {
        self.cloud_controller_errors.inc();
    }

    /// Counts a failed read or write of the target store (answered 503).
    pub fn store_error(&self) {
        self.store_errors.inc();
    }
}

/// What the updater reports about its runs.
pub struct UpdaterMetrics {
    last_success: Gauge,
    apps: Family<Gauge>,
    files_written: Counter,
    files_removed: Counter,
    cloud_controller_errors: Counter,
    failed_runs: Counter,
    duration: Gauge,
}

impl UpdaterMetrics {
    /// Registers the updater's series in `registry`; fails only when a name is taken.
    pub fn register(registry: &Registry) -> gds_metrics::Result<UpdaterMetrics> {
        Ok(UpdaterMetrics {
            last_success: registry
                .gauge(
                    Opts::new(
                        "gds_prometheus_updater_last_success_timestamp_seconds",
                        "When the last run that brought every target file up to date finished, in Unix time.",
                    )
                    .unit("seconds"),
                )?
                .get()?,
            apps: registry.gauge(
                Opts::new(
                    "gds_prometheus_updater_apps",
                    "Bound apps by what the Cloud Controller said in the last successful run: started, stopped, \
                     deleted, or unroutable (no public route; its file was left as it was).",
                )
                .labels(["state"]),
            )?,
            files_written: registry
                .counter(Opts::new("gds_prometheus_updater_files_written", "Target files written."))?
                .get()?,
            files_removed: registry
                .counter(Opts::new("gds_prometheus_updater_files_removed", "Target files removed."))?
                .get()?,
            cloud_controller_errors: registry
                .counter(Opts::new(
                    "gds_prometheus_updater_cloud_controller_errors",
                    "Runs abandoned because the Cloud Controller or UAA failed; nothing was changed.",
                ))?
                .get()?,
            failed_runs: registry
                .counter(Opts::new(
                    "gds_prometheus_updater_failed_runs",
                    "Runs that failed for any reason (Cloud Controller or store).",
                ))?
                .get()?,
            duration: registry
                .gauge(
                    Opts::new("gds_prometheus_updater_run_duration_seconds", "How long the last run took.").unit("seconds"),
                )?
                .get()?,
        })
    }

    /// Records a run that brought every target file up to date: its time, the apps by
    /// state and the files it wrote and removed.
    pub fn success(&self, report: &crate::updater::RunReport) {
        self.last_success.set_to_current_time();
        for (state, count) in report.apps_by_state() {
            if let Ok(gauge) = self.apps.labels(&[state]) {
                gauge.set(count as f64);
            }
        }
        self.files_written.inc_by(report.written as u64);
        self.files_removed.inc_by(report.removed as u64);
    }

    /// Counts a failed run, and separately when the Cloud Controller or UAA was the cause
    /// (then nothing was changed).
    pub fn failure(&self, cloud_controller: bool) {
        self.failed_runs.inc();
        if cloud_controller {
            self.cloud_controller_errors.inc();
        }
    }

    /// Records how long the last run took, whether it succeeded or not.
    pub fn duration(&self, seconds: f64) {
        self.duration.set(seconds);
    }
}

/// The core's endpoint for `registry`, configured from the environment as any app's.
pub fn endpoint(registry: Arc<Registry>) -> Result<Arc<Endpoint>, String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    Endpoint::new(config, registry)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

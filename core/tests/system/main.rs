//! The core's system tests, against real servers started on loopback: Prometheus 2 and 3
//! scraping the endpoint and reading target files, `promtool` and the Python parsers on
//! every format, and the S3 target store against the S3 server.
//!
//! They need the `system-tests` feature (and `s3`, `cli` for the S3 store), and the tools
//! `make test-core` installs; without them they fail, never skip. Run one file's tests with
//! a filter: `cargo test --all-features --test system targets_s3::`.

#[cfg(feature = "system-tests")]
#[path = "../support/prometheus_server.rs"]
mod prometheus_server;
#[cfg(all(feature = "system-tests", feature = "s3", feature = "cli"))]
#[path = "../support/s3_server.rs"]
mod s3_server;

#[cfg(feature = "system-tests")]
#[path = "../support/scrape_time.rs"]
mod scrape_time;

mod conformance;
mod prometheus3_system;
mod targets_prometheus;
mod targets_s3;

//! The core's integration tests that run inside the test process: the public API, the
//! endpoint, the formats, the shared conformance vectors and the targets CLI.
//!
//! They are one binary, not one per file, because each binary links the whole crate with
//! every feature: the link time was most of what a small test file cost. Tests that fork
//! the test process are in `tests/forking`, those that start real servers in
//! `tests/system`. Run one file's tests with a filter: `cargo test --test integration vectors::`.

#[path = "../support/scrape_time.rs"]
mod scrape_time;

mod auth_matrix;
mod axum_layer;
mod collector_failures;
mod concurrency;
mod config_env;
mod endpoint;
mod exposition;
mod families;
mod layers;
mod negotiation;
mod parser_properties;
mod prometheus3;
mod registration;
mod request_histogram;
mod targets_cli;
mod targets_leftovers;
mod vectors;

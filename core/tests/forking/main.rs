//! The core's tests that fork the test process: multi-process mode (workers that update
//! and die), process metrics of a pre-fork server, and writers killed mid-write.
//!
//! Kept apart from `tests/integration` so that a fork happens while only these tests run
//! (a child inherits whatever locks other test threads hold at that instant). Run one
//! file's tests with a filter: `cargo test --test forking multiprocess_lifecycle::`.

mod mp;

mod multiprocess;
mod multiprocess_foreign;
mod multiprocess_lifecycle;
mod process_metrics;
mod targets_crash;

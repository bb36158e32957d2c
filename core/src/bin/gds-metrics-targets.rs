//! `gds-metrics-targets`: writes and checks the Prometheus target files of Cloud Foundry
//! apps, for brokers, target updaters and operators' scripts that are not written in Rust.
//!
//! Every behaviour lives in `gds_metrics::targets`; this file only reads arguments and
//! input, and prints results. Exit status: 0 success, 1 invalid input or a failed file
//! operation, 2 usage error.

use clap::{Args, Parser, Subcommand};
use gds_metrics::targets::{
    only_listed, open_store, plan, read_target_file, reconcile, reconcile_updates, render_target_file,
    AppFacts, BoundApp, Operation, TargetsError,
};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const EXIT_STATUS_HELP: &str = "\
Exit status: 0 success; 1 invalid input (facts, desired state or target file) or a failed
file operation; 2 usage error. Errors go to stderr and say what to fix.";

/// Write and check Prometheus file-discovery target files for Cloud Foundry apps.
///
/// App facts are a JSON object: {"guid", "name", "instances", "route_host", "org",
/// "space"} plus optional "route_path" (default "") and "exporter" (default false).
#[derive(Parser)]
#[command(name = "gds-metrics-targets", version, after_help = EXIT_STATUS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the target file for one app's facts.
    #[command(after_help = EXIT_STATUS_HELP)]
    Render {
        /// A JSON file with the app's facts; `-` or nothing reads stdin.
        input: Option<PathBuf>,
    },
    /// Check target files as strictly as Prometheus reads them.
    ///
    /// A directory is checked file by file: every `*.json` in it and in its `active/` and
    /// `inactive/` folders.
    #[command(after_help = EXIT_STATUS_HELP)]
    Validate {
        /// Target files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the operations that bring a target directory to a desired state.
    ///
    /// The desired state is a JSON array with one entry per bound app: its facts plus
    /// "state": "started" or "stopped", or {"guid": ..., "state": "deleted"} for an app
    /// that no longer exists. Files of apps not in the list are removed.
    #[command(after_help = EXIT_STATUS_HELP)]
    Plan(Reconcile),
    /// Carry out the operations `plan` prints, atomically file by file.
    ///
    /// Nothing is written unless the whole desired state is valid. On S3, writes are
    /// conditional: when another writer changed a file since the listing, the store is
    /// listed again and only this run's own changes are re-planned (an app another writer
    /// unbound meanwhile is not brought back).
    #[command(after_help = EXIT_STATUS_HELP)]
    Apply(Reconcile),
    /// Copy an S3 folder of target files into a Prometheus' directory, once or every N
    /// seconds.
    ///
    /// Every object is read as strictly as Prometheus reads a file: a bad object is
    /// reported with its key and reason and not applied, and the last good copy of its
    /// file stays. Files are written atomically, only when their bytes change; files whose
    /// objects are gone are removed. Endpoint and credentials come from the AWS variables
    /// (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ALLOW_HTTP).
    #[cfg(feature = "s3")]
    #[command(after_help = EXIT_STATUS_HELP)]
    Sync(sync::SyncArgs),
}

#[derive(Args)]
struct Reconcile {
    /// The target store: a directory (with `active/` and `inactive/` folders) or
    /// `s3://bucket/prefix` (with the `s3` feature; AWS variables as for `sync`).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    dir: String,
    /// Refresh only the apps that have a file now, binding none (a target updater's
    /// run): racing the broker, it never brings back an app the broker just unbound.
    #[arg(long)]
    only_listed: bool,
    /// A JSON file with the desired state; `-` or nothing reads stdin.
    input: Option<PathBuf>,
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Render { input } => render(input.as_deref()),
        Command::Validate { paths } => validate(&paths),
        Command::Plan(args) => plan_or_apply(&args, false),
        Command::Apply(args) => plan_or_apply(&args, true),
        #[cfg(feature = "s3")]
        Command::Sync(args) => sync::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("gds-metrics-targets: {error}");
            ExitCode::FAILURE
        }
    }
}

fn render(input: Option<&Path>) -> Result<ExitCode, TargetsError> {
    let (bytes, source_name) = read_input(input)?;
    let facts = AppFacts::from_json(&bytes, &source_name)?;
    print(&render_target_file(&facts)?)?;
    Ok(ExitCode::SUCCESS)
}

fn validate(paths: &[PathBuf]) -> Result<ExitCode, TargetsError> {
    let mut all_valid = true;
    for path in paths {
        let files = target_files_at(path)?;
        if files.is_empty() {
            print(&format!("{}: no target files\n", path.display()))?;
        }
        for file in files {
            match read_target_file(&file) {
                Ok(groups) => print(&format!("{}: ok, {} group(s)\n", file.display(), groups.len()))?,
                Err(error) => {
                    eprintln!("gds-metrics-targets: {error}");
                    all_valid = false;
                }
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The file itself, or the `*.json` files of a directory and of its store folders.
fn target_files_at(path: &Path) -> Result<Vec<PathBuf>, TargetsError> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut files = json_files_in(path)?;
    for folder in ["active", "inactive"] {
        if path.join(folder).is_dir() {
            files.extend(json_files_in(&path.join(folder))?);
        }
    }
    Ok(files)
}

fn json_files_in(dir: &Path) -> Result<Vec<PathBuf>, TargetsError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error("list", dir, e))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| io_error("list", dir, e))?.path();
        if path.is_file() && path.extension().is_some_and(|ext| ext == "json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn plan_or_apply(args: &Reconcile, execute: bool) -> Result<ExitCode, TargetsError> {
    let (bytes, source_name) = read_input(args.input.as_deref())?;
    let bound = BoundApp::list_from_json(&bytes, &source_name)?;
    let store = open_store(&args.dir)?;
    if execute {
        let done = if args.only_listed {
            reconcile_updates(&*store, &bound)?
        } else {
            reconcile(&*store, &bound)?
        };
        for (operation, outcome) in done {
            print(&format!("{operation}: {outcome}\n"))?;
        }
    } else {
        let listing = store.list()?;
        let bound = if args.only_listed {
            only_listed(&bound, &listing)
        } else {
            bound
        };
        plan(&bound, &listing)?
            .iter()
            .map(Operation::to_string)
            .try_for_each(|line| print(&format!("{line}\n")))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The bytes of `input` (stdin for `None` or `-`) and the name to give it in errors.
fn read_input(input: Option<&Path>) -> Result<(Vec<u8>, String), TargetsError> {
    match input {
        Some(path) if path != Path::new("-") => {
            let bytes = std::fs::read(path).map_err(|e| io_error("read", path, e))?;
            Ok((bytes, path.display().to_string()))
        }
        _ => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| io_error("read", Path::new("<stdin>"), e))?;
            Ok((bytes, "<stdin>".to_owned()))
        }
    }
}

#[cfg(feature = "s3")]
#[path = "gds-metrics-targets/sync.rs"]
mod sync;

fn print(text: &str) -> Result<(), TargetsError> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| io_error("write", Path::new("<stdout>"), e))
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> TargetsError {
    TargetsError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

//! Multi-process aggregation for pre-fork servers (gunicorn workers, puma cluster mode).
//!
//! Every process writes its series into one memory-mapped file of its own in a shared
//! directory; any process answering a scrape reads them all and renders one exposition,
//! through the same writers as single-process mode (CONTRACT section 6): the aggregate is
//! handed over as [`model`](crate::model) values, never written here.
//!
//! - [`format`]: the versioned file layout; foreign files are recognised and ignored.
//! - [`mapped`]: this process's file, mapped once, grown underneath, slots never moving.
//! - [`liveness`](crate::liveness): a lock held for the process's life tells the living
//!   from the dead.
//! - [`archive`]: dead processes folded into one archive, so files stay bounded; the files
//!   a scrape read kept mapped and matched for the next scrape.
//! - [`aggregate`]: the rules that combine series, shared by scrapes and folds.
//! - [`high_water`]: the server's CPU seconds as last reported, so the counter of the
//!   whole server never goes backwards whichever process answers.
//! - [`fork`]: a forked child moves onto a file of its own before it can write.
//!
//! ```
//! use gds_metrics::{Format, MultiProcess, Opts, Registry};
//!
//! let dir = std::env::temp_dir().join(format!("gds-metrics-doc-{}", std::process::id()));
//! let registry = Registry::multiprocess(MultiProcess::open(&dir)?);
//! let jobs = registry.counter(Opts::new("jobs", "Jobs done."))?;
//! jobs.get()?.inc();
//! // A scrape in any process of the directory sees the sum over all of them.
//! assert!(registry.render(Format::Text).contains("jobs_total 1.0\n"));
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod aggregate;
mod archive;
mod fork;
mod format;
mod gauge_mode;
mod high_water;
mod mapped;

pub use gauge_mode::{GaugeMode, UnknownGaugeMode};
pub(crate) use high_water::ServerRun;

use crate::model::{Descriptor, FamilySink, MetricType};
use crate::storage::Slots;
use archive::ScrapeCache;
use format::FamilyDef;
use mapped::ProcessFile;
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

/// A directory shared by the processes of one app, and this process's file in it.
///
/// Open it once per process (before forking workers is fine: each child moves onto a
/// file of its own), then build a [`Registry::multiprocess`](crate::Registry::multiprocess)
/// on it. Opening the same directory again in one process returns the same store.
pub struct MultiProcess {
    dir: PathBuf,
    file: &'static ProcessFile,
    warnings: Warnings,
    /// The files the last scrape read and their aggregate, for the next scrape.
    scrape: Mutex<ScrapeCache>,
}

impl std::fmt::Debug for MultiProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MultiProcess")
            .field("dir", &self.dir)
            .field("file", &self.file.name())
            .finish()
    }
}

/// A multi-process directory that cannot be used.
// Each variant's fields are the facts its message names.
#[allow(missing_docs)]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MultiProcessError {
    /// The directory cannot be created, or a file cannot be created or locked in it.
    #[error(
        "multi-process directory `{dir}` is not usable: {source}; point PROMETHEUS_MULTIPROC_DIR \
         (or MMAP_DIRECTORY) at a directory this process can create and write"
    )]
    Directory {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Folding the files of exited processes failed.
    #[error("cannot fold the files of exited processes in `{dir}`: {source}; check the directory's permissions and free space")]
    Fold {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MultiProcessError {
    /// Always [`ErrorKind::Io`](crate::ErrorKind::Io): a file operation in the directory failed.
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Io
    }
}

static OPEN: Mutex<Vec<(PathBuf, Weak<MultiProcess>)>> = Mutex::new(Vec::new());

impl MultiProcess {
    /// Opens `dir` (creating it if missing), creates this process's file in it and folds
    /// the files of processes that have exited.
    pub fn open(dir: &Path) -> Result<Arc<MultiProcess>, MultiProcessError> {
        let unusable = |source| MultiProcessError::Directory {
            dir: dir.to_owned(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(unusable)?;
        let dir = dir.canonicalize().map_err(unusable)?;
        let mut open = OPEN.lock();
        open.retain(|(_, store)| store.strong_count() > 0);
        if let Some(store) = open
            .iter()
            .find(|(d, _)| *d == dir)
            .and_then(|(_, s)| s.upgrade())
        {
            return Ok(store);
        }
        let file = ProcessFile::create(&dir).map_err(unusable)?;
        fork::watch(file);
        let store = Arc::new(MultiProcess {
            dir: dir.clone(),
            file,
            warnings: Warnings::default(),
            scrape: Mutex::new(ScrapeCache::default()),
        });
        open.push((dir, Arc::downgrade(&store)));
        drop(open);
        store.fold_dead()?;
        Ok(store)
    }

    /// Folds the files of exited processes into the archive now (gunicorn's `child_exit`,
    /// puma's worker boot). Scrapes also fold, so calling this only keeps the directory
    /// small between scrapes.
    pub fn fold_dead(&self) -> Result<(), MultiProcessError> {
        archive::scan(
            &self.dir,
            &self.file.name(),
            false,
            &self.warnings,
            &mut ScrapeCache::default(),
        )
        .map_err(|source| MultiProcessError::Fold {
            dir: self.dir.clone(),
            source,
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The warnings this process has given about the directory (foreign, damaged or
    /// conflicting files), each once; they also go to standard error.
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.seen.lock().clone()
    }

    /// The pids of the processes with a live file in the directory, this one's included:
    /// a file whose lock is held belongs to a running process (see [`liveness`](crate::liveness)).
    pub fn live_pids(&self) -> Vec<u32> {
        let own = std::process::id();
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return vec![own];
        };
        let mut pids: Vec<u32> = entries
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let name = entry.file_name().into_string().ok()?;
                let pid = mapped::pid_of(&name)?;
                if pid == own {
                    return None;
                }
                let file =
                    crate::liveness::open_regular(&entry.path(), std::fs::OpenOptions::new().read(true))
                        .ok()?;
                // Taken: the owner is gone (dropping the file releases it for the folder).
                crate::liveness::try_lock(&file).is_err().then_some(pid)
            })
            .collect();
        pids.push(own);
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// The CPU seconds of the server run `run`, `seconds` as read now, never less than
    /// any process of the directory reported for the same run before (see
    /// [`high_water`]); `seconds` when the mark cannot be kept (the reason warned once).
    pub(crate) fn server_cpu_seconds(&self, run: ServerRun, seconds: f64) -> f64 {
        high_water::raise(&self.dir, run, seconds).unwrap_or_else(|err| {
            self.warnings.warn(format!(
                "cannot keep the server's CPU seconds in {}: {err}; process_cpu_seconds_total \
                 may dip while a dead worker is not yet reaped",
                self.dir.join(high_water::FILE).display()
            ));
            seconds
        })
    }

    /// Where series of the family `desc` are stored in this process's file.
    pub(crate) fn family_store(
        self: &Arc<Self>,
        desc: &Descriptor,
        bounds: &[f64],
        native_capacity: u32,
        mode: GaugeMode,
    ) -> FamilyStore {
        let mode = if desc.kind() == MetricType::Gauge {
            mode
        } else {
            GaugeMode::All
        };
        let def = FamilyDef {
            name: desc.name().to_owned(),
            help: desc.help().to_owned(),
            unit: desc.unit().map(str::to_owned),
            kind: desc.kind(),
            mode,
            labels: desc.label_names().iter().map(|l| l.as_str().to_owned()).collect(),
            bounds: bounds.to_vec(),
            native_capacity,
            exemplars: desc.exemplars_across_processes(),
        };
        let family_at = self.file.family(&def);
        if family_at.is_none() {
            self.warnings.warn(format!(
                "metric `{}` is not aggregated across processes: its file is full or it clashes \
                 with another definition of the same name",
                def.name
            ));
        }
        FamilyStore {
            store: self.clone(),
            family_at,
            slot_count: format::slot_count_of(&def),
            stamp_time: mode.stamps_time(),
        }
    }

    /// Hands the aggregate of the directory to `write_family`, except families `skip`
    /// claims.
    pub(crate) fn collect(&self, skip: &dyn Fn(&str) -> bool, write_family: &mut FamilySink<'_>) {
        let mut warn = |msg: String| self.warnings.warn(msg);
        // A scrape running in another thread (or one a fork interrupted, whose lock the
        // child inherits held) has the kept files: this one reads the directory afresh.
        let mut own_cache;
        let mut kept = self.scrape.try_lock();
        let cache = match kept.as_deref_mut() {
            Some(cache) => cache,
            None => {
                own_cache = ScrapeCache::default();
                &mut own_cache
            }
        };
        match archive::scan(&self.dir, &self.file.name(), true, &self.warnings, cache) {
            Ok(()) => cache.aggregate().visit(skip, &mut warn, write_family),
            Err(err) => warn(format!(
                "cannot read multi-process directory {}: {err}",
                self.dir.display()
            )),
        }
    }
}

impl Drop for MultiProcess {
    /// Closes this process's file: later forks no longer copy it, its lock is released
    /// and it is folded into the archive now (or by the next fold in the directory).
    fn drop(&mut self) {
        fork::unwatch(self.file);
        self.file.release();
        let _ = archive::scan(&self.dir, "", false, &self.warnings, &mut ScrapeCache::default());
    }
}

/// Hands what a scrape takes from one file found in the directory to `write_family`, or
/// says why the file is not a readable gds-metrics file (see
/// [`render_mapped_file`](crate::render_mapped_file)).
pub(crate) fn visit_file(bytes: &[u8], write_family: &mut FamilySink<'_>) -> Result<(), String> {
    use aggregate::{Aggregate, Source};
    use format::Role;
    // Parsing reads slots as 8-byte atomics, so it needs the alignment a mapping has.
    let mut words = vec![0u64; bytes.len().div_ceil(8)];
    // SAFETY: `words` holds at least `bytes.len()` initialised bytes, and outlives `aligned`.
    let aligned = unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast::<u8>(), bytes.len()) };
    aligned.copy_from_slice(bytes);
    let aligned = &*aligned;
    let (parsed, source) = match format::parse(aligned, Role::Process, false) {
        Ok(parsed) => (parsed, Source::Live),
        Err(_) => match format::parse(aligned, Role::Archive, true) {
            Ok(parsed) => (parsed, Source::Archive),
            Err(reason) => return Err(reason.0.to_owned()),
        },
    };
    let mut ignore = |_: String| {};
    let mut aggregate = Aggregate::default();
    aggregate.add(&parsed, aligned, source, &mut ignore);
    aggregate.visit(&|_| false, &mut ignore, write_family);
    Ok(())
}

/// Where the series of one family go in this process's file.
#[derive(Debug)]
pub(crate) struct FamilyStore {
    /// Keeps the store open while any family writes to it.
    store: Arc<MultiProcess>,
    family_at: Option<usize>,
    slot_count: usize,
    stamp_time: bool,
}

impl std::fmt::Debug for ProcessFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl FamilyStore {
    /// Slots for a new series with `values`; `None` keeps the series in memory only.
    pub(crate) fn slots<V: AsRef<str>>(&self, values: &[V]) -> Option<Slots> {
        let family_at = self.family_at?;
        let words = self.store.file.series(family_at, values, self.slot_count)?;
        Some(Slots::new(words, self.stamp_time))
    }
}

/// Warnings about the directory, printed to standard error once each.
#[derive(Default)]
pub(crate) struct Warnings {
    seen: Mutex<Vec<String>>,
}

impl Warnings {
    pub(crate) fn warn(&self, message: String) {
        let mut seen = self.seen.lock();
        if !seen.contains(&message) {
            eprintln!("gds-metrics: {message}");
            seen.push(message);
        }
    }
}

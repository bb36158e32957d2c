//! Process metrics, with the names `prometheus_client` and `client_java` use, read from
//! `/proc` (Linux; elsewhere there are none).
//!
//! In a single process they describe that process. Under a pre-fork server (gunicorn,
//! puma cluster mode) a scrape answered by one worker would describe only that worker, so
//! with a multi-process store they describe the whole server instead: the master and
//! every live worker of the directory, read when the scrape is made. The master is known
//! from the start when it holds a live file in the directory: the gunicorn hook and the
//! puma plugin open it in the master when the server starts
//! ([`ServerDirectory::for_server`](crate::ServerDirectory::for_server)), so a server with
//! one worker is seen as one. A master that never opened the directory is only recognised
//! as the parent of two or more live workers. What each family means then:
//!
//! | family | single process | whole server |
//! |---|---|---|
//! | `process_cpu_seconds_total` | user + system CPU | the sum over the master and live workers, plus the CPU of workers that have exited and been reaped by the master (the kernel adds it to the master's children time); never less than any process reported for the same server run before (a mark kept in the directory), so a worker that died but is not yet reaped, in neither sum for that moment, holds the counter where it was instead of taking it back |
//! | `process_resident_memory_bytes` | resident set | the sum over the processes (pages shared after `fork` are counted in each: an upper bound, as `ps` sums it) |
//! | `process_open_fds` | open file descriptors | the sum |
//! | `process_max_fds` | the soft limit on open files | the lowest limit of any process (each process hits its own limit: a sum means nothing) |
//! | `process_start_time_seconds` | start time | the master's: when the server started |
//! | `process_virtual_memory_bytes` | address space size | not exported: address spaces overlap after `fork`, and neither a sum nor a maximum says anything true |
//! | `process_live_workers` | not exported | the number of live worker processes |
//!
//! No family has a label: nothing grows with worker restarts.

use crate::error::Result;
use crate::exposition::Encoder;
use crate::model::{Descriptor, MetricType, Opts, SeriesValue};
use crate::multiprocess::{MultiProcess, ServerRun};
use crate::registry::{Collector, Registry};
use std::path::Path;
use std::sync::Arc;

/// The families, as named by `prometheus_client` and `client_java`.
pub const CPU_SECONDS: &str = "process_cpu_seconds";
/// See [`CPU_SECONDS`].
pub const RESIDENT_MEMORY: &str = "process_resident_memory_bytes";
/// See [`CPU_SECONDS`].
pub const VIRTUAL_MEMORY: &str = "process_virtual_memory_bytes";
/// See [`CPU_SECONDS`].
pub const OPEN_FDS: &str = "process_open_fds";
/// See [`CPU_SECONDS`].
pub const MAX_FDS: &str = "process_max_fds";
/// See [`CPU_SECONDS`].
pub const START_TIME: &str = "process_start_time_seconds";
/// The number of live workers of a pre-fork server (multi-process mode only).
pub const LIVE_WORKERS: &str = "process_live_workers";

/// Every family name this module may write, for bindings that must keep another source
/// of process metrics (`prometheus_client`'s default registry) out of the scrape.
pub const FAMILY_NAMES: [&str; 7] = [
    "process_cpu_seconds_total",
    RESIDENT_MEMORY,
    VIRTUAL_MEMORY,
    OPEN_FDS,
    MAX_FDS,
    START_TIME,
    LIVE_WORKERS,
];

/// What `/proc` says about one process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessSample {
    /// Its parent's pid.
    pub parent: u32,
    /// User and system CPU seconds of the process itself.
    pub cpu_seconds: f64,
    /// User and system CPU seconds of its children that exited and were waited for.
    pub reaped_children_cpu_seconds: f64,
    /// Resident memory in bytes.
    pub resident_bytes: f64,
    /// Virtual memory in bytes.
    pub virtual_bytes: f64,
    /// Open file descriptors.
    pub open_fds: f64,
    /// The soft limit on open files, when readable.
    pub max_fds: Option<f64>,
    /// Seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// The machine constants the samples are scaled by.
#[derive(Debug, Clone, Copy)]
struct Machine {
    ticks_per_second: f64,
    page_bytes: f64,
    boot_time_seconds: f64,
}

fn machine() -> Option<Machine> {
    // SAFETY: sysconf has no preconditions.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let boot = stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse::<f64>()
        .ok()?;
    (ticks > 0 && page > 0).then_some(Machine {
        ticks_per_second: ticks as f64,
        page_bytes: page as f64,
        boot_time_seconds: boot,
    })
}

/// Reads process `pid` from `/proc`; `None` when it does not exist (any more) or `/proc`
/// is not there.
pub fn sample(pid: u32) -> Option<ProcessSample> {
    sample_with(&machine()?, pid)
}

fn sample_with(machine: &Machine, pid: u32) -> Option<ProcessSample> {
    let dir = Path::new("/proc").join(pid.to_string());
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // The command name is in parentheses and may hold spaces or parentheses itself.
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split_whitespace().collect();
    let number = |field: usize| fields.get(field - 3).and_then(|v| v.parse::<f64>().ok());
    let ticks = machine.ticks_per_second;
    let open_fds = std::fs::read_dir(dir.join("fd")).ok()?.count() as f64;
    Some(ProcessSample {
        parent: number(4)? as u32,
        cpu_seconds: (number(14)? + number(15)?) / ticks,
        reaped_children_cpu_seconds: (number(16)? + number(17)?) / ticks,
        resident_bytes: number(24)? * machine.page_bytes,
        virtual_bytes: number(23)?,
        open_fds,
        max_fds: max_open_files(&dir),
        start_time_seconds: machine.boot_time_seconds + number(22)? / ticks,
    })
}

/// The soft limit of `Max open files` in `/proc/<pid>/limits`.
fn max_open_files(dir: &Path) -> Option<f64> {
    let limits = std::fs::read_to_string(dir.join("limits")).ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The server as one scrape sees it: the master and its live workers.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerSample {
    /// The pid of the process that started the workers (or of the only process).
    pub master_pid: u32,
    /// That process.
    pub master: ProcessSample,
    /// The workers alive at the scrape.
    pub workers: Vec<ProcessSample>,
}

impl ServerSample {
    /// The server of the processes `live` (the pids with a live file in the directory,
    /// this process's included), seen from `own` (see `master_of` for which process is the
    /// master).
    ///
    /// The master is read before the workers: a worker reaped in between is then counted
    /// in neither (a dip the CPU mark holds back) rather than in both (a jump the mark
    /// would keep).
    pub fn read(own: u32, live: &[u32]) -> Option<ServerSample> {
        let machine = machine()?;
        let own_sample = sample_with(&machine, own)?;
        let parent = own_sample.parent;
        let parent_sample = (parent > 0).then(|| sample_with(&machine, parent)).flatten();
        let others: Vec<(u32, ProcessSample)> = live
            .iter()
            .filter(|pid| **pid != own && **pid != parent)
            .filter_map(|pid| Some((*pid, sample_with(&machine, *pid)?)))
            .collect();
        let master_pid = master_of(own, parent, live, &others);
        let (master, mut workers) = if master_pid == own {
            (own_sample, Vec::new())
        } else {
            (parent_sample?, vec![own_sample])
        };
        workers.extend(
            others
                .into_iter()
                .filter(|(_, s)| s.parent == master_pid)
                .map(|(_, s)| s),
        );
        Some(ServerSample {
            master_pid,
            master,
            workers,
        })
    }

    /// The master's CPU, its reaped children's and its live workers'.
    pub fn cpu_seconds(&self) -> f64 {
        self.master.cpu_seconds
            + self.master.reaped_children_cpu_seconds
            + self.workers.iter().map(|w| w.cpu_seconds).sum::<f64>()
    }

    fn all(&self) -> impl Iterator<Item = &ProcessSample> {
        std::iter::once(&self.master).chain(&self.workers)
    }
}

/// The master of the server `own` belongs to, `own`'s parent being `parent`, `live` the
/// pids with a live file in the directory and `others` the samples of those that are
/// neither `own` nor `parent`: the parent when it holds a live file itself (a master that
/// opened the directory when the server started, as the gunicorn hook and the puma plugin
/// do, or that preloaded the app), or else when it has another child among them (a
/// master that never opened the directory: it is found only once it has two workers);
/// otherwise `own`.
fn master_of(own: u32, parent: u32, live: &[u32], others: &[(u32, ProcessSample)]) -> u32 {
    let parent_in_directory = parent != own && live.contains(&parent);
    let has_sibling = parent > 1 && others.iter().any(|(_, s)| s.parent == parent);
    if parent_in_directory || has_sibling {
        parent
    } else {
        own
    }
}

fn descriptor(name: &str, help: &str, kind: MetricType) -> Descriptor {
    Opts::new(name, help)
        .into_descriptor(kind)
        .expect("the process metric names are valid")
}

/// The descriptors of the families written for one process (`server: false`) or a server.
pub fn descriptors(server: bool) -> Vec<Descriptor> {
    let mut out = vec![
        descriptor(
            CPU_SECONDS,
            "Total user and system CPU time spent in seconds.",
            MetricType::Counter,
        ),
        descriptor(
            RESIDENT_MEMORY,
            "Resident memory size in bytes.",
            MetricType::Gauge,
        ),
        descriptor(OPEN_FDS, "Number of open file descriptors.", MetricType::Gauge),
        descriptor(
            MAX_FDS,
            "Maximum number of open file descriptors.",
            MetricType::Gauge,
        ),
        descriptor(
            START_TIME,
            "Start time of the process since unix epoch in seconds.",
            MetricType::Gauge,
        ),
    ];
    if server {
        out.push(descriptor(
            LIVE_WORKERS,
            "Live worker processes of the pre-fork server.",
            MetricType::Gauge,
        ));
    } else {
        out.push(descriptor(
            VIRTUAL_MEMORY,
            "Virtual memory size in bytes.",
            MetricType::Gauge,
        ));
    }
    out
}

/// Writes this process's metrics; nothing where `/proc` is not available.
pub fn encode_process(encoder: &mut Encoder<'_>) {
    let Some(own) = sample(std::process::id()) else {
        return;
    };
    let values = [
        own.cpu_seconds,
        own.resident_bytes,
        own.open_fds,
        own.max_fds.unwrap_or(f64::NAN),
        own.start_time_seconds,
        own.virtual_bytes,
    ];
    encode(encoder, &descriptors(false), &values);
}

/// Writes the metrics of the server whose processes share `store`'s directory, as this
/// process sees it; nothing where `/proc` is not available.
pub fn encode_server(encoder: &mut Encoder<'_>, store: &MultiProcess) {
    let Some(server) = ServerSample::read(std::process::id(), &store.live_pids()) else {
        return;
    };
    let run = ServerRun {
        master_pid: server.master_pid,
        started: server.master.start_time_seconds,
    };
    let max_fds = server
        .all()
        .filter_map(|s| s.max_fds)
        .fold(f64::INFINITY, f64::min);
    let values = [
        store.server_cpu_seconds(run, server.cpu_seconds()),
        server.all().map(|s| s.resident_bytes).sum(),
        server.all().map(|s| s.open_fds).sum(),
        if max_fds.is_finite() { max_fds } else { f64::NAN },
        server.master.start_time_seconds,
        server.workers.len() as f64,
    ];
    encode(encoder, &descriptors(true), &values);
}

/// Adds the process metrics to `registry`: of this process, or of the whole server when
/// the registry aggregates a multi-process directory. Fails with
/// [`Error::Duplicate`](crate::Error::Duplicate) when they are there already (or the app
/// registered a family of one of their names).
pub fn register(registry: &Registry) -> Result<()> {
    let collector = ProcessCollector {
        store: registry.multiprocess_store().cloned(),
    };
    registry.register(Arc::new(collector))
}

/// Reads `/proc` at each scrape, in the process answering it.
struct ProcessCollector {
    store: Option<Arc<MultiProcess>>,
}

impl Collector for ProcessCollector {
    fn descriptors(&self) -> Vec<Descriptor> {
        descriptors(self.store.is_some())
    }

    fn collect(&self, encoder: &mut Encoder<'_>) {
        match &self.store {
            None => encode_process(encoder),
            Some(store) => encode_server(encoder, store),
        }
    }

    fn name(&self) -> String {
        "process metrics".to_owned()
    }
}

fn encode(encoder: &mut Encoder<'_>, descriptors: &[Descriptor], values: &[f64]) {
    for (desc, value) in descriptors.iter().zip(values) {
        if value.is_nan() {
            continue;
        }
        let value = match desc.kind() {
            MetricType::Counter => SeriesValue::Counter {
                value: *value,
                created: None,
                exemplar: None,
            },
            _ => SeriesValue::Gauge(*value),
        };
        encoder.family(desc).series::<&str>(&[], None, &value);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_read_from_proc() {
        let own = sample(std::process::id()).unwrap();
        assert!(own.resident_bytes > 0.0);
        assert!(own.open_fds >= 3.0);
        assert!(own.start_time_seconds > 1.5e9);
        assert_eq!(own.parent, std::os::unix::process::parent_id());
    }

    fn child_of(parent: u32) -> ProcessSample {
        ProcessSample {
            parent,
            cpu_seconds: 0.0,
            reaped_children_cpu_seconds: 0.0,
            resident_bytes: 0.0,
            virtual_bytes: 0.0,
            open_fds: 0.0,
            max_fds: None,
            start_time_seconds: 0.0,
        }
    }

    #[test]
    fn a_process_without_siblings_or_a_parent_in_the_directory_is_its_own_master() {
        assert_eq!(master_of(10, 5, &[10], &[]), 10);
        assert_eq!(master_of(10, 5, &[10, 11], &[(11, child_of(5))]), 5);
    }

    #[test]
    fn a_parent_holding_a_live_file_is_the_master_of_its_only_worker() {
        assert_eq!(master_of(10, 5, &[5, 10], &[]), 5);
    }

    #[test]
    fn a_master_running_as_pid_1_is_found_by_its_live_file() {
        // A container's first process: gunicorn or puma as `CMD`.
        assert_eq!(master_of(10, 1, &[1, 10], &[]), 1);
        // Orphans adopted by init share no master.
        assert_eq!(master_of(10, 1, &[10, 11], &[(11, child_of(1))]), 10);
    }
}

//! Whatever else is in the multi-process directory (another tool's files, damaged or
//! hostile copies of ours, FIFOs, symlinks, directories), a scrape and a fold return
//! promptly and show exactly what the processes counted (CONTRACT section 6).

use crate::mp;

use gds_metrics::{Format, MultiProcess, Opts, Registry};
use mp::{entries, run_worker, sample, serial, TempDir};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Longer than any scrape of a small directory takes; a FIFO that is opened blocks forever.
const PROMPTLY: Duration = Duration::from_secs(10);

/// Runs `work` on another thread and fails the test if it does not return within
/// [`PROMPTLY`] (the thread is left blocked: the test binary exits anyway).
fn promptly<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    result.recv_timeout(PROMPTLY).unwrap_or_else(|_| {
        panic!("{what} did not return within {PROMPTLY:?}: something blocked on a directory entry")
    })
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(
        // SAFETY: a libc call on descriptors, pids and buffers this test owns.
        unsafe { libc::mkfifo(c.as_ptr(), 0o644) },
        0,
        "mkfifo {}",
        path.display()
    );
}

fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = fastrand::Rng::with_seed(seed);
    (0..len).map(|_| rng.u8(..)).collect()
}

/// The `used` word of a process file's header: how many bytes hold records.
fn used(file: &[u8]) -> usize {
    u64::from_le_bytes(file[24..32].try_into().unwrap()) as usize
}

/// A store with a folded worker and a live process, and its clean scrape.
struct Fixture {
    dir: TempDir,
    store: Arc<MultiProcess>,
    registry: Arc<Registry>,
    jobs: gds_metrics::Family<gds_metrics::Counter>,
    clean: String,
}

fn fixture(name: &str) -> Fixture {
    let dir = TempDir::new(name);
    let store = MultiProcess::open(dir.path()).unwrap();
    let registry = Arc::new(Registry::multiprocess(store.clone()));
    let jobs = registry
        .counter(Opts::new("jobs", "Jobs.").labels(["queue"]))
        .unwrap();
    jobs.labels(&["email"]).unwrap().inc_by(7);
    assert_eq!(run_worker(|| jobs.labels(&["email"]).unwrap().inc_by(3)), 0);
    let clean = registry.render(Format::OpenMetrics);
    assert_eq!(sample(&clean, "jobs_total{queue=\"email\"}"), Some(10.0));
    Fixture {
        dir,
        store,
        registry,
        jobs,
        clean,
    }
}

/// Scrapes and folds, each on a deadline, and checks nothing was added.
fn scrape_and_fold_show_only_what_was_counted(f: &Fixture) {
    let registry = f.registry.clone();
    let scraped = promptly("a scrape", move || registry.render(Format::OpenMetrics));
    assert_eq!(scraped, f.clean);
    let store = f.store.clone();
    promptly("a fold", move || store.fold_dead()).unwrap();
    // Folding still works: a worker that exits now is counted, exactly once.
    assert_eq!(run_worker(|| f.jobs.labels(&["email"]).unwrap().inc_by(5)), 0);
    let registry = f.registry.clone();
    let scraped = promptly("a scrape after a fold", move || {
        registry.render(Format::OpenMetrics)
    });
    assert_eq!(sample(&scraped, "jobs_total{queue=\"email\"}"), Some(15.0));
    assert_eq!(
        scraped.matches("# TYPE").count(),
        1,
        "no family from a foreign file:\n{scraped}"
    );
}

#[test]
fn fifos_symlinks_and_directories_are_skipped_without_being_opened() {
    let _serial = serial();
    let f = fixture("not-regular");
    let dir = f.dir.path();
    mkfifo(&dir.join("proc-16-00000000deadbeef.gdsm"));
    mkfifo(&dir.join("a.fifo"));
    mkfifo(&dir.join(".tmp-17-00000000deadbeef"));
    std::os::unix::fs::symlink("/dev/zero", dir.join("proc-15-00000000deadbeef.gdsm")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero")).unwrap();
    std::fs::create_dir(dir.join("proc-12-00000000deadbeef.gdsm")).unwrap();
    std::fs::write(dir.join("proc-12-00000000deadbeef.gdsm").join("inside"), b"x").unwrap();

    scrape_and_fold_show_only_what_was_counted(&f);

    let warnings = f.store.warnings().join("\n");
    for name in [
        "proc-16-00000000deadbeef.gdsm",
        "a.fifo",
        "proc-15-00000000deadbeef.gdsm",
        "zero",
    ] {
        assert!(
            warnings.contains(&format!("{name}: not a regular file")),
            "no warning for {name} in:\n{warnings}"
        );
        assert!(
            entries(dir).contains(&name.to_owned()),
            "{name} is left alone, not removed"
        );
    }
}

#[test]
fn every_kind_of_foreign_file_is_ignored_or_folded_and_adds_nothing() {
    let _serial = serial();
    let f = fixture("foreign");
    let dir = f.dir.path();
    let own = entries(dir).into_iter().find(|n| n.starts_with("proc-")).unwrap();
    let real = std::fs::read(dir.join(&own)).unwrap();
    let valid_header_random_records = {
        let mut file = real[..64].to_vec();
        file.extend(random_bytes(2, 4096));
        let len = file.len() as u64;
        file[24..32].copy_from_slice(&len.to_le_bytes());
        file
    };
    let files: [(&str, Vec<u8>); 8] = [
        ("random.db", random_bytes(1, 4096)),
        ("proc-20-00000000deadbeef.gdsm", random_bytes(3, 4096)),
        ("proc-21-00000000deadbeef.gdsm", Vec::new()),
        ("empty.gdsm", Vec::new()),
        // A copy cut inside its records: `used` says more than there is.
        ("proc-22-00000000deadbeef.gdsm", real[..used(&real) - 8].to_vec()),
        ("proc-23-00000000deadbeef.gdsm", valid_header_random_records),
        // A temporary file of a process still creating its file.
        (".tmp-24-00000000deadbeef", real[..64].to_vec()),
        ("archive.gdsm.bak", random_bytes(4, 100)),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    std::fs::create_dir(dir.join("a-directory")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", dir.join("proc-25-00000000deadbeef.gdsm")).unwrap();
    mkfifo(&dir.join("proc-26-00000000deadbeef.gdsm"));

    scrape_and_fold_show_only_what_was_counted(&f);

    let left = entries(dir);
    for name in [
        "random.db",
        "empty.gdsm",
        ".tmp-24-00000000deadbeef",
        "archive.gdsm.bak",
    ] {
        assert!(
            left.contains(&name.to_owned()),
            "{name} is not ours and is left alone"
        );
    }
    for name in [
        "proc-20-00000000deadbeef.gdsm",
        "proc-21-00000000deadbeef.gdsm",
        "proc-22-00000000deadbeef.gdsm",
        "proc-23-00000000deadbeef.gdsm",
    ] {
        assert!(
            !left.contains(&name.to_owned()),
            "{name} is named as a process file, unlocked, so folded away: {left:?}"
        );
    }
}

/// Files the fuzzer of the file reader found (`core/fuzz/corpus/multiprocess_file/`),
/// replayed on every test run: each renders without a panic, and every histogram's
/// cumulative buckets still rise (a hostile file once made a count overflow).
#[test]
fn files_the_fuzzer_found_render_without_panicking_and_with_rising_buckets() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/multiprocess_file");
    let mut rendered = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(text) = gds_metrics::render_mapped_file(&bytes) else {
            continue;
        };
        rendered += 1;
        let mut last: Option<(String, f64)> = None;
        for line in text.lines().filter(|l| l.contains("_bucket{")) {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let family = series.split("_bucket{").next().unwrap().to_owned();
            let value: f64 = value.parse().unwrap();
            if let Some((previous_family, previous)) = &last {
                if *previous_family == family {
                    assert!(value >= *previous, "{}: buckets fall in\n{text}", path.display());
                }
            }
            last = Some((family, value));
        }
    }
    assert!(
        rendered >= 2,
        "the seed corpus holds a process file and an archive"
    );
}

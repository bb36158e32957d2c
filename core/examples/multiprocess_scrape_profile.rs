//! A multi-process scrape alone, as the Ruby benchmark's scrape row makes it: WORKERS
//! forked workers (default 4) each write the same 10,000 counter series (two labels, 1,000
//! paths × 10 codes) and stay alive; this process then scrapes the directory SCRAPES times.
//! For instruction profiles: run it with two scrape counts and take the difference, which
//! is the steady scrapes alone, without start-up, the workers and the first scrape.
//!
//! ```text
//! cargo build --release -p gds-metrics --example multiprocess_scrape_profile
//! valgrind --tool=callgrind target/release/examples/multiprocess_scrape_profile 1
//! valgrind --tool=callgrind target/release/examples/multiprocess_scrape_profile 11
//! ```
//!
//! Without valgrind it also prints the best wall time of the steady scrapes.

use gds_metrics::{Format, MultiProcess, Opts, Registry};
use std::time::Instant;

const SERIES: usize = 10_000;

fn main() {
    let mut args = std::env::args().skip(1);
    let scrapes: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(11);
    let workers: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(4);
    let dir = std::env::temp_dir().join(format!("gds-metrics-scrape-profile-{}", std::process::id()));
    let registry = Registry::multiprocess(MultiProcess::open(&dir).expect("a usable directory"));
    registry.set_series_limit(SERIES * 2);
    let family = registry
        .counter(Opts::new("bench_series", "Series.").labels(["path", "code"]))
        .expect("a valid family");
    let children: Vec<libc::pid_t> = (0..workers)
        .map(|_| {
            fork_worker(|| {
                for index in 0..SERIES {
                    let path = format!("/items/{}", index / 10);
                    let code = (200 + index % 10).to_string();
                    family
                        .labels(&[path.as_str(), code.as_str()])
                        .expect("two labels")
                        .inc();
                }
            })
        })
        .collect();
    let mut out = Vec::with_capacity(1 << 20);
    let mut best = f64::INFINITY;
    for _ in 0..scrapes {
        out.clear();
        let start = Instant::now();
        registry.encode(Format::Text, &mut out);
        best = best.min(start.elapsed().as_secs_f64());
    }
    let text = String::from_utf8_lossy(&out);
    let series = text.lines().filter(|l| l.starts_with("bench_series")).count();
    let expected = format!("bench_series_total{{path=\"/items/0\",code=\"200\"}} {workers}.0\n");
    assert!(text.contains(&expected), "every worker's increment counted");
    println!(
        "{scrapes} scrapes of {series} series x {workers} files, {} bytes, best {:.3} ms",
        out.len(),
        best * 1e3
    );
    for pid in children {
        // SAFETY: plain signals to and waits for our own children.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            libc::waitpid(pid, std::ptr::null_mut(), 0);
        }
    }
    drop(registry);
    std::fs::remove_dir_all(&dir).ok();
}

/// Forks a child that runs `work`, reports it done and then waits to be killed (alive, so
/// nothing folds its file). Returns its pid once the work is done.
fn fork_worker(work: impl FnOnce()) -> libc::pid_t {
    let mut fds = [0; 2];
    // SAFETY: a plain pipe; this example is single-threaded when it forks, and the child
    // only runs `work`, writes a byte and pauses.
    unsafe {
        assert_eq!(libc::pipe(fds.as_mut_ptr()), 0);
        let pid = libc::fork();
        assert!(pid >= 0, "fork failed");
        if pid == 0 {
            work();
            libc::write(fds[1], [1u8].as_ptr().cast(), 1);
            loop {
                libc::pause();
            }
        }
        let mut byte = 0u8;
        assert_eq!(libc::read(fds[0], (&mut byte as *mut u8).cast(), 1), 1);
        libc::close(fds[0]);
        libc::close(fds[1]);
        pid
    }
}

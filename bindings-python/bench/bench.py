"""Benchmarks of the Python binding against prometheus_client and gds-metrics 0.2.4.

Run by `make bench-python`. Every case runs in a fresh interpreter (multi-process mode is
chosen by environment variables read at import), ours and the peer's in the same run, and
the Markdown table written to --out gives both times and the ratio; the increments also
have both sides' instruction counts (valgrind's callgrind), which a busy machine does not
disturb. Nothing here fails on an absolute time.

    python bench.py --peer-python PATH --out .build/bench/python.md
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import timeit
from typing import Callable, Dict, List, Tuple

HERE = os.path.abspath(__file__)
OURS = "gds-metrics (this binding)"
PEER = "prometheus_client"
OLD = "gds-metrics 0.2.4"

RENDER_SERIES = 10_000
MP_LIVE, MP_DEAD, MP_SERIES = 8, 200, 1_000


def best_ns(statement: Callable[[], object], number: int, repeat: int = 5, timer=timeit.default_timer) -> float:
    """The best time of one call in nanoseconds, over `repeat` runs of `number` calls."""
    return min(timeit.repeat(statement, number=number, repeat=repeat, timer=timer)) / number * 1e9


def loop_ns(stmt: str, namespace: dict, number: int = 200_000) -> float:
    """Like best_ns, with the statement compiled into timeit's loop (no lambda call)."""
    timer = timeit.Timer(stmt, globals=namespace)
    return min(timer.repeat(number=number, repeat=5)) / number * 1e9


# --- cases, each run in its own interpreter ----------------------------------------------


INCREMENTS = {
    "Counter.inc()": ("counter.inc()", 200_000),
    'labels("GET", "200").inc()': ('labelled.labels("GET", "200").inc()', 100_000),
    "Histogram.observe()": ("histogram.observe(0.3)", 200_000),
}


def increment_namespace(impl: str) -> dict:
    if impl == "ours":
        from gds_metrics.metrics import Counter, Histogram
    else:
        from prometheus_client import Counter, Histogram
    counter = Counter("bench_plain", "Plain counter.")
    labelled = Counter("bench_labelled", "Labelled counter.", ["method", "code"])
    histogram = Histogram("bench_seconds", "Histogram.")
    return {"counter": counter, "labelled": labelled, "histogram": histogram, "empty": []}


def case_increments(impl: str) -> Dict[str, float]:
    ns = increment_namespace(impl)
    return {op: loop_ns(stmt, ns, number) for op, (stmt, number) in INCREMENTS.items()}


# The cheapest call of a method written in C, CPython's own: no binding's method can cost
# fewer instructions per call in this loop.
FLOOR = "[].clear()"


def run_loop(impl: str, op: str, number: int) -> None:
    """Runs one increment (or FLOOR) `number` times, untimed: what `instructions` counts."""
    statement = "empty.clear()" if op == FLOOR else INCREMENTS[op][0]
    timeit.Timer(statement, globals=increment_namespace(impl)).timeit(number=number)


def case_render(impl: str) -> Dict[str, float]:
    if impl == "ours":
        from gds_metrics.metrics import Counter, Registry

        registry = Registry()
        render = registry.render
    else:
        from prometheus_client import CollectorRegistry, Counter, generate_latest

        registry = CollectorRegistry()

        def render():
            return generate_latest(registry)

    # Our families keep 2,000 label sets unless told otherwise.
    limit = {"series_limit": RENDER_SERIES} if impl == "ours" else {}
    counter = Counter("bench_requests", "Requests.", ["route", "code"], registry=registry, **limit)
    for i in range(RENDER_SERIES):
        counter.labels(f"/route/{i // 10}", str(200 + i % 10)).inc(i)
    rendered = render()
    text = rendered.decode() if isinstance(rendered, bytes) else rendered
    assert text.count("bench_requests_total{") == RENDER_SERIES, "every series is rendered"
    return {f"render {RENDER_SERIES:,} series": best_ns(render, number=5)}


def _write_worker_series(impl: str) -> None:
    """In a forked worker: 1,000 series, as a real worker would have."""
    if impl == "ours":
        from gds_metrics.metrics import Counter
    else:
        from prometheus_client import Counter
    counter = Counter("bench_jobs", "Jobs.", ["queue"])
    for i in range(MP_SERIES):
        counter.labels(f"queue-{i}").inc(i)


def case_mp_scrape(impl: str) -> Dict[str, float]:
    """A scrape of a directory holding 8 live and 200 dead workers of 1,000 series each."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for _ in range(MP_DEAD):
        pid = os.fork()
        if pid == 0:
            _write_worker_series(impl)
            os._exit(0)
        os.waitpid(pid, 0)
        _worker_exited(impl, directory, pid)
    live: List[Tuple[int, int]] = []
    for _ in range(MP_LIVE):
        ready_r, ready_w = os.pipe()
        stop_r, stop_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            _write_worker_series(impl)
            os.write(ready_w, b"1")
            os.read(stop_r, 1)
            os._exit(0)
        os.read(ready_r, 1)
        live.append((pid, stop_w))
    scrape = _scraper(impl, directory)
    try:
        body = scrape()
        assert b"bench_jobs" in body
        return {f"multi-process scrape, {MP_LIVE} live + {MP_DEAD} dead workers x {MP_SERIES:,} series": best_ns(
            scrape, number=1, repeat=5
        )}
    finally:
        for pid, stop_w in live:
            os.write(stop_w, b"1")
            os.waitpid(pid, 0)


def _worker_exited(impl: str, directory: str, pid: int) -> None:
    if impl == "ours":
        from gds_metrics._native import fold_dead

        fold_dead(directory)
    else:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, directory)


def _scraper(impl: str, directory: str) -> Callable[[], bytes]:
    if impl == "ours":
        from gds_metrics.metrics import generate_latest

        return generate_latest
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return lambda: generate_latest(registry)


def case_flask(impl: str) -> Dict[str, float]:
    """Time of one request through a Flask app with the extension and through the same
    app without it, measured in alternating rounds in one process so that load on the
    machine affects both alike."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from gds_metrics import GDSMetrics

    def make_app():
        app = Flask("bench")

        @app.route("/users/<int:user_id>")
        def user(user_id):
            return "ok"

        return app

    bare, measured = make_app(), make_app()
    GDSMetrics().init_app(measured)
    environ = EnvironBuilder(path="/users/7").get_environ()

    def start_response(status, headers, exc_info=None):
        pass

    def requester(app):
        def request():
            body = app(dict(environ), start_response)
            for _ in body:
                pass
            body.close()

        return request

    bare_times, with_times = [], []
    # CPU time of this thread: other processes on a busy machine do not count.
    for _ in range(41):
        bare_times.append(best_ns(requester(bare), number=500, repeat=1, timer=time.thread_time))
        with_times.append(best_ns(requester(measured), number=500, repeat=1, timer=time.thread_time))
    # Paired rounds: the median of the differences resists load that comes and goes.
    overheads = sorted(w - b for w, b in zip(with_times, bare_times))
    return {"bare Flask request": min(bare_times), "overhead": overheads[len(overheads) // 2]}


CASES = {"increments": case_increments, "render": case_render, "mp_scrape": case_mp_scrape, "flask": case_flask}


# --- orchestration -----------------------------------------------------------------------

# The goals of the increment rows, by operation and multi-process mode.
GOALS = {
    ("Counter.inc()", False): "≥ 10x",
    ("Counter.inc()", True): "≥ 40x",
    ('labels("GET", "200").inc()', False): "≥ 3x",
    ('labels("GET", "200").inc()', True): "≥ 10x",
    ("Histogram.observe()", False): "≥ 3x",
    ("Histogram.observe()", True): "≥ 10x",
}

# Loop lengths whose difference `instructions` divides by: the interpreter's start,
# imports and metric creation cancel out.
SHORT_LOOP, LONG_LOOP = 1_000, 21_000


def instructions(python: str, impl: str, op: str, multiprocess: bool) -> float:
    """Instructions one call of `op` executes, loop included, counted by callgrind: the
    difference between a long and a short loop in fresh interpreters, divided by the
    difference in calls. Unlike time, the count does not depend on what else the machine
    runs. String hashing is fixed (PYTHONHASHSEED) so that both runs hash alike."""
    counts = []
    for number in (SHORT_LOOP, LONG_LOOP):
        with tempfile.TemporaryDirectory(prefix="gds-metrics-bench-") as directory:
            env = {k: v for k, v in os.environ.items() if k.lower() != "prometheus_multiproc_dir"}
            env["PYTHONHASHSEED"] = "0"
            if multiprocess:
                env["PROMETHEUS_MULTIPROC_DIR"] = directory
            command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python, HERE]
            command += ["--loop", op, "--impl", impl, "--number", str(number)]
            stderr = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stderr
        counts.append(int(re.search(r"Collected : (\d+)", stderr).group(1)))
    return (counts[1] - counts[0]) / (LONG_LOOP - SHORT_LOOP)



def run_case(python: str, case: str, impl: str, multiprocess: bool) -> Dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k.lower() != "prometheus_multiproc_dir"}
    with tempfile.TemporaryDirectory(prefix="gds-metrics-bench-") as directory:
        if multiprocess:
            # gds-metrics 0.2.4 defaults the lower-case spelling to /tmp; set both.
            env["PROMETHEUS_MULTIPROC_DIR"] = env["prometheus_multiproc_dir"] = directory
        output = subprocess.run(
            [python, HERE, "--case", case, "--impl", impl], env=env, check=True, capture_output=True, text=True
        ).stdout
    return json.loads(output.strip().splitlines()[-1])


def fmt_time(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:,.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:,.2f} µs"
    return f"{ns:,.0f} ns"


def increment_row(name: str, ours: float, peer: float, counts: List[float], goal: str) -> str:
    ours_count, peer_count = counts
    return (
        f"| {name} | {fmt_time(ours)} | {fmt_time(peer)} | {peer / ours:,.1f}x "
        f"| {ours_count:,.0f} | {peer_count:,.0f} | {peer_count / ours_count:,.1f}x | {goal} |"
    )


def row(name: str, ours: float, peer: float, goal: str) -> str:
    return f"| {name} | {fmt_time(ours)} | {fmt_time(peer)} | {peer / ours:,.1f}x | {goal} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--impl")
    parser.add_argument("--peer-python")
    parser.add_argument("--out")
    parser.add_argument("--loop")
    parser.add_argument("--number", type=int)
    args = parser.parse_args()
    if args.loop:
        run_loop(args.impl, args.loop, args.number)
        return
    if args.case:
        print(json.dumps(CASES[args.case](args.impl)))
        return

    me = sys.executable
    lines = [
        "## Python binding",
        "",
        f"Python {sys.version.split()[0]}; peers: prometheus_client {_version(me, 'prometheus_client')}, "
        f"{OLD} (its own virtual environment). Times are wall-clock, the best of several runs (the Flask "
        "overhead is CPU time, see below); "
        "\"faster\" is the peer's time divided by ours. Instructions are callgrind's count for one "
        "call, the benchmark loop's share included, for both sides in the same run; unlike times they "
        "do not move with the load on a shared machine, and \"fewer\" is the peer's count divided by ours.",
        "",
        f"| case | {OURS} | peer | faster | instructions, ours | instructions, peer | fewer | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for mode, multi in (("one process", False), ("multi-process", True)):
        ours = run_case(me, "increments", "ours", multi)
        peer = run_case(me, "increments", "prometheus_client", multi)
        for op in ours:
            counts = [instructions(me, impl, op, multi) for impl in ("ours", "prometheus_client")]
            lines.append(increment_row(f"{op}, {mode} (vs {PEER})", ours[op], peer[op], counts, GOALS[op, multi]))
    floor = instructions(me, "ours", FLOOR, False)
    lines += [
        "",
        f"For scale: in the same loop, `{FLOOR}`, a method of CPython's own written in C, costs "
        f"{floor:,.0f} instructions per call, the least any native method can cost there.",
        "",
        f"| case | {OURS} | peer | faster | goal |",
        "|---|---:|---:|---:|---|",
    ]
    ours = run_case(me, "render", "ours", False)
    peer = run_case(me, "render", "prometheus_client", False)
    for op in ours:
        lines.append(row(f"{op} (vs {PEER})", ours[op], peer[op], "≥ 20x"))
    ours = run_case(me, "mp_scrape", "ours", True)
    peer = run_case(me, "mp_scrape", "prometheus_client", True)
    for op in ours:
        lines.append(row(f"{op} (vs {PEER})", ours[op], peer[op], "≥ 50x"))
    lines += flask_rows(me, args.peer_python)
    text = "\n".join(lines) + "\n"
    with open(args.out, "w") as out:
        out.write(text)
    print(text)


def flask_rows(me: str, peer_python: str) -> List[str]:
    """Per-request overhead of the extension: a request with it minus one without."""
    old_run = run_case(peer_python, "flask", "gds-metrics", True)
    old = old_run["overhead"]
    lines = [
        "",
        f"Flask per-request overhead: a request through the extension minus the same request "
        f"without it, in CPU time, the median over paired rounds; a bare Flask request took "
        f"{fmt_time(old_run['bare Flask request'])} in {OLD}'s run. "
        f"Goal: at most a third of {OLD}'s, i.e. ≥ 3x.",
        "",
        f"| case | {OURS} | {OLD} | faster |",
        "|---|---:|---:|---:|",
    ]
    for label, multi in (("one process", False), ("multi-process", True)):
        run = run_case(me, "flask", "gds-metrics", multi)
        ours = run["overhead"]
        lines.append(
            f"| Flask extension overhead, ours in {label} | {fmt_time(ours)} | {fmt_time(old)} | {old / ours:,.1f}x |"
        )
    return lines


def _version(python: str, package: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip() or "?"


if __name__ == "__main__":
    main()

"""The peer side of benches/multiprocess.rs: prometheus_client's multi-process mode.

Same workload and directory shape: 8 live workers and N exited ones, 1,000 series each
(600 counters, 300 `livesum` gauges, 100 histograms), real forked processes, exited ones
marked dead as gunicorn's `child_exit` does. Prints one JSON object:
{"first_ns", "steady_ns", "bytes", "files"}. Usage: multiprocess_peer.py N
"""

import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time

SAMPLES = 11


def main():
    dead = int(sys.argv[1])
    directory = tempfile.mkdtemp(prefix="gds-metrics-bench-peer-")
    # prometheus_client picks its value class from the environment when imported.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
    from prometheus_client import multiprocess

    requests = Counter("requests", "Requests.", ["route"])
    in_flight = Gauge("in_flight", "In flight.", ["route"], multiprocess_mode="livesum")
    latency = Histogram("latency_seconds", "Latency.", ["route"])

    def run(seed):
        for i in range(600):
            requests.labels(f"/r/{i}").inc(seed % 7 + 1)
        for i in range(300):
            in_flight.labels(f"/r/{i}").set(seed % 5)
        for i in range(100):
            latency.labels(f"/r/{i}").observe((seed % 100) / 100.0)

    def fork(seed, linger):
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            run(seed)
            os.write(ready_w, b"1")
            if linger:
                signal.pause()
            os._exit(0)
        os.read(ready_r, 1)
        os.close(ready_r)
        os.close(ready_w)
        if not linger:
            os.waitpid(pid, 0)
            multiprocess.mark_process_dead(pid)
        return pid

    run(0)
    live = [fork(seed, True) for seed in range(1, 9)]
    for seed in range(dead):
        fork(100 + seed, False)

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start = time.perf_counter_ns()
    out = generate_latest(registry)
    first_ns = time.perf_counter_ns() - start
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter_ns()
        out = generate_latest(registry)
        samples.append(time.perf_counter_ns() - start)
    files = len(os.listdir(directory))
    for pid in live:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps({
        "first_ns": first_ns,
        "steady_ns": statistics.median(samples),
        "bytes": len(out),
        "files": files,
    }))


if __name__ == "__main__":
    main()

"""An app set up exactly as the gds-metrics 0.2 README shows, under a real gunicorn with
four workers on loopback: one aggregated view from any worker, totals that survive a
killed worker, and nothing stale after a restart."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import servers as servers_module
from protobuf_wire import request_histogram
from servers import settled

APP = '''\
import os

from flask import Flask
from gds_metrics import GDSMetrics

app = Flask(__name__)

metrics = GDSMetrics()
metrics.init_app(app)


@app.route("/")
def index():
    return "hello"


@app.route("/pid")
def pid():
    return str(os.getpid())
'''

CONFIG = "from gds_metrics.gunicorn import child_exit\n"

WORKERS = 4
INDEX_LINE = re.compile(r'^http_server_requests_total\{method="GET",host="[^"]*",path="/",code="200"\} (\S+)$', re.M)


class Gunicorn(servers_module.Gunicorn):
    def __init__(self, workdir, extra_args=(), workers=WORKERS):
        super().__init__(workdir, workers, extra_args)

    def index_total(self) -> float:
        match = INDEX_LINE.search(self.get("/metrics"))
        return float(match.group(1)) if match else 0.0


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / "application.py").write_text(APP)
    (tmp_path / "gunicorn_config.py").write_text(CONFIG)
    return tmp_path


@pytest.fixture
def servers(workdir):
    started = []

    def start(*extra_args, workers=WORKERS):
        server = Gunicorn(workdir, extra_args, workers)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def spread_requests(server, count):
    """Sends `count` requests to `/`, each on a new connection, and returns the pids of
    the workers that answered `/pid` requests sent alongside."""
    pids = set()
    for _ in range(count):
        server.get("/")
        pids.add(server.get("/pid"))
    return pids


def test_every_scrape_shows_the_exact_total_of_all_workers(servers):
    server = servers()
    # One answer during start-up.
    pids = spread_requests(server, 199)
    assert len(pids) > 1, "requests should spread over several workers"
    assert settled(server.index_total, 200.0) == 200.0
    for _ in range(12):
        assert server.index_total() == 200.0


PROTOBUF = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
TRACE_ID, SPAN_ID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def index_duration(server):
    """The request duration of `/` (the first series: multi-process scrapes sort them) as a
    protobuf scrape gives it."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{server.port}/metrics", headers={"Connection": "close", "Accept": PROTOBUF}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return request_histogram(response.read(), "http_server_request_duration_seconds")


def test_traced_requests_of_every_worker_make_one_native_histogram_carrying_the_trace(servers):
    server = servers()
    pids = set()
    for _ in range(40):
        server.get("/", {"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-01"})
        pids.add(server.get("/pid"))
    assert len(pids) > 1, "requests should spread over several workers"
    # One answer during start-up, untraced.
    assert settled(lambda: index_duration(server)["native"]["count"], 41) == 41
    for _ in range(6):
        found = index_duration(server)
        assert found["native"]["count"] == 41
        labels = {tuple(map(tuple, exemplar["labels"])) for exemplar in found["native_exemplars"]}
        assert labels == {(("trace_id", TRACE_ID), ("span_id", SPAN_ID))}


def test_app_preloaded_in_the_master_still_gets_one_file_per_worker(servers):
    server = servers("--preload")
    pids = spread_requests(server, 99)
    assert len(pids) > 1
    assert settled(server.index_total, 100.0) == 100.0
    for _ in range(12):
        assert server.index_total() == 100.0


def test_threaded_workers_lose_no_request(servers):
    server = servers("--threads", "4")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: server.get("/"), range(199)))
    assert settled(server.index_total, 200.0) == 200.0
    for _ in range(12):
        assert server.index_total() == 200.0


def test_totals_survive_a_worker_killed_with_sigkill(servers):
    server = servers()
    pids = spread_requests(server, 99)
    assert settled(server.index_total, 100.0) == 100.0
    victim = int(sorted(pids)[0])
    os.kill(victim, signal.SIGKILL)
    server.wait_for_workers(WORKERS + 1)
    assert settled(server.index_total, 101.0) == 101.0  # wait_for_workers made one more request
    for _ in range(12):
        assert server.index_total() == 101.0


def test_restarted_server_shows_nothing_stale(servers):
    first = servers()
    spread_requests(first, 20)
    assert settled(first.index_total, 21.0) == 21.0
    first.stop()
    second = servers()
    assert settled(second.index_total, 1.0) == 1.0


def test_private_directory_is_removed_when_the_server_stops(servers):
    server = servers()
    assert [d.name for d in server.tmpdir.glob("gds-metrics-*/*")] == [str(server.process.pid)]
    server.stop()
    assert list(server.tmpdir.glob("gds-metrics-*/*")) == []


def test_scrape_passes_promtool(servers, tmp_path):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is required (make test-python installs it)")
    server = servers()
    spread_requests(server, 5)
    exposition = tmp_path / "scrape.txt"
    exposition.write_text(server.get("/metrics"))
    result = subprocess.run([promtool, "check", "metrics"], stdin=exposition.open("rb"), capture_output=True)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


# -- process metrics of the whole server ------------------------------------------------


def process_sample(text, name):
    found = re.search(rf"^{name} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def server_processes(server):
    """The master and its live children, read from /proc."""
    master = server.process.pid
    with open(f"/proc/{master}/task/{master}/children") as children:
        return [master, *(int(pid) for pid in children.read().split())]


def resident_bytes(pid):
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def started_at(pid):
    """A process's start time, from /proc/<pid>/stat and the boot time in /proc/stat."""
    with open("/proc/stat") as stat:
        boot = next(float(line.split()[1]) for line in stat if line.startswith("btime "))
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def test_process_metrics_cover_the_master_and_every_live_worker_through_a_kill(servers):
    server = servers()
    live = lambda: process_sample(server.get("/metrics"), "process_live_workers")  # noqa: E731
    assert settled(live, float(WORKERS)) == WORKERS
    text = server.get("/metrics")
    assert text.count("# TYPE process_cpu_seconds_total counter") == 1, "one source of process metrics"
    assert "process_virtual_memory_bytes" not in text, "address spaces overlap after fork: no sum"
    processes = server_processes(server)
    assert len(processes) == WORKERS + 1
    expected_rss = sum(resident_bytes(pid) for pid in processes)
    assert abs(process_sample(text, "process_resident_memory_bytes") - expected_rss) < 0.2 * expected_rss
    start = process_sample(text, "process_start_time_seconds")
    assert abs(start - started_at(server.process.pid)) < 0.05, "the master's start time"
    cpu = process_sample(text, "process_cpu_seconds_total")
    assert cpu > 0

    victim = processes[1]
    os.kill(victim, signal.SIGKILL)
    server.wait_for_workers(WORKERS + 1)
    assert settled(live, float(WORKERS)) == WORKERS
    for _ in range(8):
        text = server.get("/metrics")
        assert process_sample(text, "process_start_time_seconds") == start
        assert process_sample(text, "process_live_workers") == WORKERS
        now = process_sample(text, "process_cpu_seconds_total")
        assert now >= cpu, f"the server's CPU went back from {cpu} to {now} after a kill"
        cpu = now
    assert victim not in server_processes(server)


def wait_until_zombie(pid):
    """Waits until `pid` has died but is not reaped yet (state Z in /proc/<pid>/stat)."""
    deadline = time.monotonic() + servers_module.DEADLINE
    while time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not die")


def test_one_worker_is_seen_as_one_with_the_masters_start_time_through_a_kill(servers):
    server = servers(workers=1)
    # From the first scrape on: the master holds its file from the start.
    text = server.get("/metrics")
    assert process_sample(text, "process_live_workers") == 1, text
    start = process_sample(text, "process_start_time_seconds")
    assert abs(start - started_at(server.process.pid)) < 0.05, "the master's start time"
    cpu = process_sample(text, "process_cpu_seconds_total")

    victim = server_processes(server)[1]
    os.kill(victim, signal.SIGKILL)
    server.wait_for_workers(2)
    for _ in range(8):
        text = server.get("/metrics")
        assert process_sample(text, "process_live_workers") == 1, text
        assert process_sample(text, "process_start_time_seconds") == start
        now = process_sample(text, "process_cpu_seconds_total")
        assert now >= cpu, f"the server's CPU went back from {cpu} to {now} after a kill"
        cpu = now
    assert victim not in server_processes(server)


def test_a_worker_dead_but_not_yet_reaped_takes_no_cpu_back(servers):
    server = servers(workers=2)
    live = lambda: process_sample(server.get("/metrics"), "process_live_workers")  # noqa: E731
    assert settled(live, 2.0) == 2.0
    master, victim, _survivor = server_processes(server)
    cpu = process_sample(server.get("/metrics"), "process_cpu_seconds_total")
    # A stopped master cannot reap: the killed worker stays a zombie, its CPU in neither
    # the live workers' sum nor the master's children time.
    os.kill(master, signal.SIGSTOP)
    try:
        os.kill(victim, signal.SIGKILL)
        wait_until_zombie(victim)
        for _ in range(8):
            text = server.get("/metrics")
            assert process_sample(text, "process_live_workers") == 1, text
            now = process_sample(text, "process_cpu_seconds_total")
            assert now >= cpu, f"the server's CPU went back from {cpu} to {now} while a worker was unreaped"
            cpu = now
    finally:
        os.kill(master, signal.SIGCONT)
    server.wait_for_workers(3)
    assert settled(live, 2.0) == 2.0
    assert process_sample(server.get("/metrics"), "process_cpu_seconds_total") >= cpu

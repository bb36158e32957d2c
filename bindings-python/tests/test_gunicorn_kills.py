"""Multi-process mode under a real gunicorn with four workers, workers killed with SIGKILL
while a bounded load runs (CONTRACT section 6): the scraped total is every request
answered (plus at most the ones a kill cut off), counters never go backwards, and the
directory keeps one file per live process."""

import http.client
import os
import random
import signal
import threading
import time
import urllib.error

from test_gunicorn import WORKERS, servers, workdir  # noqa: F401 (fixtures)

KILLS = 5
KILL_EVERY_SECONDS = 0.8
CLIENTS = 4
LOAD_SECONDS = 8.0
#: What a client sees when the worker holding its request is killed.
CUT_OFF = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


def process_files(server):
    # The server's private directory, `<temp dir>/gds-metrics-<uid>/<master pid>`.
    directories = list(server.tmpdir.glob("gds-metrics-*/*"))
    assert len(directories) == 1, directories
    return [name for name in os.listdir(directories[0]) if name.startswith("proc-")]


def live_workers(server):
    """The master's children, read from /proc."""
    path = f"/proc/{server.process.pid}/task/{server.process.pid}/children"
    with open(path) as children:
        return [int(pid) for pid in children.read().split()]


class Load:
    """CLIENTS threads sending `/` until stopped, counting answers and cut-off requests."""

    def __init__(self, server):
        self.server = server
        self.stop = threading.Event()
        self.answered = 0
        self.cut_off = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client) for _ in range(CLIENTS)]

    def _client(self):
        while not self.stop.is_set():
            try:
                ok = self.server.get("/") == "hello"
            except CUT_OFF:
                ok = False
            with self.lock:
                if ok:
                    self.answered += 1
                else:
                    self.cut_off += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()


def test_workers_killed_under_load_lose_no_answered_request(servers):  # noqa: F811
    server = servers()
    before = server.index_total()  # wait_for_workers sent one request
    scraped, file_counts = [], []
    rng = random.Random()
    start = time.monotonic()
    kills = 0
    with Load(server) as load:
        while time.monotonic() < start + LOAD_SECONDS:
            workers = live_workers(server)
            if workers and kills < KILLS and time.monotonic() > start + (kills + 1) * KILL_EVERY_SECONDS:
                os.kill(rng.choice(workers), signal.SIGKILL)
                kills += 1
            try:
                scraped.append(server.index_total())
            except CUT_OFF:
                pass  # this scrape went to the worker just killed
            file_counts.append(len(process_files(server)))
    assert kills == KILLS
    server.wait_for_workers(WORKERS + KILLS)  # replacements booted; one more request

    assert load.answered > 100, "the load was too small to mean anything"
    assert load.cut_off <= KILLS, "a sync worker holds one request when it is killed"
    assert scraped == sorted(scraped), f"a counter went backwards: {scraped}"
    total = server.index_total()
    answered = before + load.answered + 1
    assert answered <= total <= answered + load.cut_off, (total, answered, load.cut_off)
    for _ in range(8):
        assert server.index_total() == total, "every worker shows the same total"
    # One file per live worker, the master's, and briefly a killed one's before its fold.
    assert max(file_counts) <= WORKERS + 2, file_counts
    assert len(process_files(server)) <= WORKERS + 1

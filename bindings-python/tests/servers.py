"""Real servers on loopback for the tests: gunicorn (and uvicorn) started on a free port,
waited for by reading their log, stopped with SIGTERM; and raw HTTP requests that send
the request target exactly as given."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DEADLINE = 30.0
SETTING_VARIABLES = ("VCAP_APPLICATION", "METRICS_BASIC_AUTH", "PROMETHEUS_METRICS_PATH", "CF_INSTANCE_INDEX")


class Server:
    """A server process on a free loopback port, stopped by `stop()`.

    `command` is the server's command line after the interpreter, with `{port}` unused:
    servers bind port 0 and the port is read from the log with `port_pattern`.
    """

    def __init__(self, workdir: Path, command, port_pattern, ready=None, env=None):
        self.workdir = workdir
        self.log = workdir / f"server-{time.monotonic_ns()}.log"
        self.tmpdir = workdir / "tmp"
        self.tmpdir.mkdir(exist_ok=True)
        environment = {k: v for k, v in os.environ.items() if k.lower() != "prometheus_multiproc_dir"}
        for name in SETTING_VARIABLES + ("MMAP_DIRECTORY",):
            environment.pop(name, None)
        environment["XDG_RUNTIME_DIR"] = str(workdir)  # gunicorn's control socket, per server
        environment["TMPDIR"] = str(self.tmpdir)  # where the private multi-process directory goes
        environment.update(env or {})
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", *command], cwd=workdir, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        self.port = self._wait("the listening port", lambda: self._port(port_pattern))
        self._wait("an answer", ready or (lambda: self.status("/") is not None))

    def _log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def _port(self, pattern):
        match = re.search(pattern, self._log_text())
        return match and int(match.group(1))

    def _wait(self, what, found):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            result = found()
            if result:
                return result
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited while waiting for {what}:\n{self._log_text()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self._log_text()}")

    def status(self, path):
        try:
            return raw_request(self.port, "GET", path)[0]
        except OSError:
            return None

    def get(self, path, headers=None) -> str:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", headers={"Connection": "close", **(headers or {})}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read().decode()

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Gunicorn(Server):
    """gunicorn serving `app` (`module:variable`) from `workdir` with its
    `gunicorn_config.py`."""

    def __init__(self, workdir: Path, workers=4, extra_args=(), app="application:app", env=None, ready=None):
        command = ["gunicorn", "-c", "gunicorn_config.py", "-w", str(workers), "-b", "127.0.0.1:0", *extra_args, app]
        self.workers = workers
        # wait_for_workers makes the one request that shows the server answers.
        super().__init__(workdir, command, r"Listening at: http://127\.0\.0\.1:(\d+)", ready or (lambda: True), env)
        self.wait_for_workers(workers)

    def booted_workers(self):
        return re.findall(r"Booting worker with pid: (\d+)", self._log_text())

    def wait_for_workers(self, count):
        self._wait(f"{count} booted workers", lambda: len(self.booted_workers()) >= count)
        self._wait("an answer", lambda: self.status("/") == 200)


def raw_request(port, method, target, headers=()):
    """Sends one HTTP/1.1 request with `target` byte for byte as given; returns the status,
    the headers (lower-case names) and the body."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return int(status_line.split()[1]), parsed, body


def _unchunk(body):
    out = b""
    while body:
        size, _, rest = body.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        out += rest[:length]
        body = rest[length + 2 :]
    return out


class Uvicorn(Server):
    """uvicorn serving the ASGI `app` (`module:variable`) from `workdir`."""

    def __init__(self, workdir: Path, app="application:app", env=None, extra_args=()):
        command = ["uvicorn", "--port", "0", "--lifespan", "on", *extra_args, app]
        super().__init__(workdir, command, r"Uvicorn running on http://127\.0\.0\.1:(\d+)", env=env)


def settled(read, expected, deadline=10.0):
    """`read()` once it returns `expected`, or its last value after `deadline` seconds.

    A request is recorded when the server has sent its body and closed it, a moment after
    the client has read the response; a scrape sent right away may come before that.
    """
    stop = time.monotonic() + deadline
    value = read()
    while value != expected and time.monotonic() < stop:
        time.sleep(0.02)
        value = read()
    return value


S3_ACCESS_KEY = "gds-metrics-test"
S3_SECRET_KEY = "gds-metrics-test-secret"


class S3Server:
    """A real S3 server, `s3s-fs` (installed by `make s3s-fs`, found through `S3S_FS`), on
    a free loopback port with SigV4 credentials, serving `root` (one directory per bucket,
    one file per object). Stopped by `stop()`."""

    def __init__(self, root: Path, buckets=("targets",)):
        self.root = root
        for bucket in buckets:
            (root / bucket).mkdir(parents=True)
        binary = os.environ.get("S3S_FS") or str(
            Path(__file__).resolve().parents[2] / ".build/tools/s3s-fs-0.14.1/bin/s3s-fs"
        )
        self.port = _free_port()
        self.log = root.parent / f"s3s-fs-{self.port}.log"
        command = [binary, "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--access-key", S3_ACCESS_KEY, "--secret-key", S3_SECRET_KEY, str(root)]
        try:
            with open(self.log, "wb") as log:
                self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        except FileNotFoundError:
            raise AssertionError(f"cannot start {binary}; install it with `make s3s-fs`") from None
        self._wait_until_listening()

    def _wait_until_listening(self):
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"s3s-fs exited:\n{self.log.read_text(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise AssertionError(f"s3s-fs did not listen on port {self.port} within {DEADLINE}s")

    def env(self):
        """The AWS variables a client needs to reach this server."""
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def object_path(self, bucket, key) -> Path:
        """Where the server keeps `bucket/key` on disk."""
        return self.root / bucket / key

    def stop(self):
        self.process.kill()
        self.process.wait()


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]

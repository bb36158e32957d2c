"""Starting, waiting for and stopping the demo's processes.

Every process runs in its own session (so its own process group): a Ctrl-C in the
terminal reaches only the supervisor, which then stops the groups itself, last started
first. Stopping a group signals every process in it (gunicorn and puma workers, nginx
workers, a JVM's helpers), and the supervisor checks the group is empty before it
reports a process as stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

STOP_GRACE_SECONDS = 15.0
POLL_SECONDS = 0.1


class StartupError(RuntimeError):
    """A process died or did not become ready in time; the message says which and why."""


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pgid(self) -> int:
        # Started with start_new_session, so the leader's pid is the group id.
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def group_members(pgid: int) -> list[int]:
    """Pids of the live (non-zombie) processes in a process group, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        state, process_group = fields[0], int(fields[2])
        if process_group == pgid and state not in ("Z", "X"):
            members.append(int(entry))
    return members


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports, all held open until every one is picked."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Supervisor:
    """Owns every process it starts and stops all of them on exit, also on failure."""

    def __init__(self, log_dir: Path, grace_seconds: float = STOP_GRACE_SECONDS):
        self.log_dir = log_dir
        self.grace_seconds = grace_seconds
        self.processes: list[Process] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> "Supervisor":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Process:
        log = self.log_dir / f"{name}.log"
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(log, "ab") as out:
            popen = subprocess.Popen(
                list(argv),
                env=full_env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def wait_ready(self, process: Process, is_ready: Callable[[], bool], timeout: float) -> None:
        """Polls `is_ready` until it holds; fails early, with the log, if the process exits."""
        deadline = time.monotonic() + timeout
        while True:
            if process.popen.poll() is not None:
                raise StartupError(
                    f"{process.name} exited with status {process.popen.returncode} before it was ready;"
                    f" last lines of {process.log}:\n{process.log_tail()}"
                )
            if is_ready():
                return
            if time.monotonic() > deadline:
                raise StartupError(
                    f"{process.name} was not ready after {timeout:.0f}s; last lines of {process.log}:\n"
                    f"{process.log_tail()}"
                )
            time.sleep(POLL_SECONDS)

    def stop(self, process: Process) -> None:
        """SIGTERM to the whole group, SIGKILL to whatever is left after the grace period."""
        signal_group(process.pgid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_seconds
        while group_members(process.pgid) and time.monotonic() < deadline:
            reap(process)
            time.sleep(POLL_SECONDS)
        if group_members(process.pgid):
            signal_group(process.pgid, signal.SIGKILL)
            deadline = time.monotonic() + self.grace_seconds
            while group_members(process.pgid) and time.monotonic() < deadline:
                reap(process)
                time.sleep(POLL_SECONDS)
        reap(process)
        if process in self.processes:
            self.processes.remove(process)

    def stop_all(self) -> None:
        """Stops every process, last started first; a second Ctrl-C cannot cut this short."""
        with sigint_ignored():
            for process in reversed(list(self.processes)):
                self.stop(process)

    def leftover_pids(self, pgids: Sequence[int]) -> list[int]:
        return [pid for pgid in pgids for pid in group_members(pgid)]


@contextlib.contextmanager
def sigint_ignored():
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot reach this code anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def reap(process: Process) -> None:
    try:
        process.popen.wait(timeout=0)
    except subprocess.TimeoutExpired:
        pass


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Polls `condition` (no fixed sleeps); `what` names it in the timeout error."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_SECONDS * 5)

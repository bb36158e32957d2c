#!/usr/bin/env python3
"""A stand-in for the outside dead man's switch: alerts when the heartbeat stops.

    python3 demo/deadman.py PORT --timeout SECONDS --notify URL

Alertmanager sends the always-firing `DeadMansSwitch` alert to `POST /heartbeat` every
repeat interval. When no heartbeat came for `--timeout` seconds after the first one, this
posts `{"status": "firing", "alertname": "DeadMansSwitchMissing", ...}` to `--notify` once;
when heartbeats come back it posts the same with `"status": "resolved"`. `GET /status`
answers `{"heartbeats": N, "seconds_since_last": S or null, "missing": bool}`.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHECK_SECONDS = 0.2


class Heartbeats:
    """When the heartbeat was last heard, and whether its absence was told."""

    def __init__(self, timeout: float, notify_url: str):
        self.timeout = timeout
        self.notify_url = notify_url
        self.count = 0
        self.last: float | None = None
        self.missing = False
        self.lock = threading.Lock()

    def beat(self) -> None:
        with self.lock:
            self.count += 1
            self.last = time.monotonic()
            came_back = self.missing
            self.missing = False
        if came_back:
            self.notify("resolved", 0.0)

    def status(self) -> dict:
        with self.lock:
            since = None if self.last is None else time.monotonic() - self.last
            return {"heartbeats": self.count, "seconds_since_last": since, "missing": self.missing}

    def watch(self) -> None:
        while True:
            time.sleep(CHECK_SECONDS)
            with self.lock:
                silent = self.last is not None and time.monotonic() - self.last > self.timeout
                newly_missing = silent and not self.missing
                self.missing = self.missing or silent
                since = 0.0 if self.last is None else time.monotonic() - self.last
            if newly_missing:
                self.notify("firing", since)

    def notify(self, status: str, silent_for: float) -> None:
        body = {"status": status, "alertname": "DeadMansSwitchMissing", "silent_for_seconds": round(silent_for, 1)}
        request = urllib.request.Request(
            self.notify_url, json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
        except OSError as e:
            sys.stderr.write(f"deadman: could not notify {self.notify_url}: {e}\n")


def handler(heartbeats: Heartbeats) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path != "/heartbeat":
                self._answer(404, {"error": "POST /heartbeat"})
                return
            heartbeats.beat()
            self._answer(200, {"ok": True})

        def do_GET(self) -> None:
            if self.path != "/status":
                self._answer(404, {"error": "GET /status"})
                return
            self._answer(200, heartbeats.status())

        def _answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            sys.stderr.write("deadman: " + format % args + "\n")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("--timeout", type=float, required=True, help="seconds without a heartbeat before alerting")
    parser.add_argument("--notify", required=True, help="URL to POST the missing-heartbeat alert to")
    args = parser.parse_args()
    heartbeats = Heartbeats(args.timeout, args.notify)
    threading.Thread(target=heartbeats.watch, daemon=True).start()
    ThreadingHTTPServer(("127.0.0.1", args.port), handler(heartbeats)).serve_forever()


if __name__ == "__main__":
    main()

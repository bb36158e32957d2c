#!/usr/bin/env python3
"""A webhook receiver standing in for Slack: records every notification Alertmanager sends.

    python3 demo/webhook.py PORT

`POST /<receiver>` stores the JSON body under that path; `GET /received` answers every
notification so far as a JSON list of `{"path": ..., "body": ...}`, oldest first.
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RECEIVED: list[dict] = []
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", errors="replace")}
        with LOCK:
            RECEIVED.append({"path": self.path, "body": body})
        self._answer(200, b"ok\n", "text/plain")

    def do_GET(self) -> None:
        if self.path != "/received":
            self._answer(404, b"try /received\n", "text/plain")
            return
        with LOCK:
            payload = json.dumps(RECEIVED).encode()
        self._answer(200, payload, "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        sys.stderr.write("webhook: " + format % args + "\n")


def main() -> None:
    port = int(sys.argv[1])
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()

"""Small HTTP helpers over the standard library: plain requests and Prometheus' API."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Mapping


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def request(
    port: int,
    path: str,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
    host: str = "127.0.0.1",
    timeout: float = 10.0,
) -> Reply:
    """One request to 127.0.0.1:`port`; `host` is only the Host header."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return Reply(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()


def answers(port: int, path: str = "/", headers: Mapping[str, str] | None = None, status: int = 200) -> bool:
    """Whether the server on `port` is up and answers `path` with `status`: a readiness probe."""
    try:
        return request(port, path, headers, timeout=2.0).status == status
    except OSError:
        return False


class PrometheusApi:
    """The parts of Prometheus' HTTP API the demo and its tests read."""

    def __init__(self, name: str, port: int):
        self.name = name
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        return answers(self.port, "/-/ready")

    def get(self, path: str, **params: str) -> object:
        query = urllib.parse.urlencode(params)
        reply = request(self.port, f"/api/v1/{path}" + (f"?{query}" if query else ""))
        payload = json.loads(reply.body)
        if payload.get("status") != "success":
            raise RuntimeError(f"{self.name}: /api/v1/{path} failed: {payload}")
        return payload["data"]

    def active_targets(self, scrape_pool: str | None = "paas-tenant-apps") -> list[dict]:
        """The tenants' targets by default; `scrape_pool=None` adds the service's own."""
        targets = self.get("targets", state="active")["activeTargets"]
        return [t for t in targets if scrape_pool is None or t["scrapePool"] == scrape_pool]

    def query(self, expr: str) -> list[dict]:
        return self.get("query", query=expr)["result"]

    def alerts(self) -> list[dict]:
        return self.get("alerts")["alerts"]

    def series(self, match: str) -> list[dict]:
        return self.get("series", **{"match[]": match})

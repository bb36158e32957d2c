#!/usr/bin/env python3
"""`make bench-e2e`: wrk against every example app's metrics endpoint, 10,000 custom series.

The demo's apps are built (release) and started with `DEMO_EXTRA_SERIES` custom series
each, beside the same Flask app on the library this project replaces (`gds-metrics` 0.2.4
on prometheus_client); wrk then scrapes one instance of each directly on loopback, with
the app's bearer token, for a bounded time. Written to `.build/bench/e2e.md`: scrapes per
second, latency percentiles, errors (non-2xx answers and socket errors, which must be
zero) and, where there is a peer, the ratio.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import APPS, App  # noqa: E402
from stack import ROOT, Demo, Instance  # noqa: E402

EXTRA_SERIES = 10_000
#: Each app measured against the same app on the library it replaces, where one can run here.
PEERS = {
    "flask-app": App("flask-peer", "flask-app-gds-metrics-0-2-4", "5e0c2b7a-9d4f-4c1e-8a3b-6f2d1e0c9b87", 1)
}
OUTPUT = ROOT / ".build" / "bench" / "e2e.md"


@dataclass
class WrkResult:
    app: str
    series: int
    requests_per_second: float
    percentiles: dict[str, str]
    errors: int


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", default="10s", help="wrk run time per app (default 10s)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    apps = APPS + list(PEERS.values())
    with Demo(name="bench", apps=apps, release=True, scrape_interval="15s", background_traffic=False) as demo:
        demo.install()
        demo.build()
        demo.ctx.extra_env["DEMO_EXTRA_SERIES"] = str(EXTRA_SERIES)
        demo.start()
        results = {app.name: run_wrk(demo, first_instance(demo, app), args) for app in demo.apps}
    write_markdown(results, args, [app.name for app in demo.missing])
    print(OUTPUT.read_text())
    return 1 if any(r.errors for r in results.values()) else 0


def first_instance(demo: Demo, app) -> Instance:
    return next(i for i in demo.instances if i.app == app)


def run_wrk(demo: Demo, instance: Instance, args) -> WrkResult:
    series = count_series(demo, instance)
    argv = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}",
        "--latency",
        "--timeout",
        "30s",
        "-H",
        f"Authorization: Bearer {instance.app.guid}",
        f"http://127.0.0.1:{instance.port}/metrics",
    ]
    demo.log("$ " + " ".join(argv[:-3]) + " ... " + argv[-1])
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return parse_wrk(instance.app.name, series, out)


def count_series(demo: Demo, instance: Instance) -> int:
    reply = demo.via_router(instance, "/metrics", {"Authorization": f"Bearer {instance.app.guid}"})
    return sum(1 for line in reply.text.splitlines() if line and not line.startswith("#"))


def parse_wrk(app: str, series: int, out: str) -> WrkResult:
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return WrkResult(app, series, rate, percentiles, errors)


def write_markdown(results: dict[str, WrkResult], args, missing: list[str]) -> None:
    lines = [
        "## End to end: scraping each example app under load",
        "",
        f"`wrk -t{args.threads} -c{args.connections} -d{args.duration}` against one instance of each"
        f" example app's `/metrics` on loopback, with the bearer token, each app holding"
        f" {EXTRA_SERIES:,} custom series (`demo/load.py`). The ratio is scrapes per second,"
        " ours ÷ peer (higher is better); the peer is the same app on the library it replaces.",
        "",
        "| app | series scraped | scrapes/s | p50 | p90 | p99 | errors | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    peer_names = {peer.name for peer in PEERS.values()}
    for name, result in results.items():
        if name in peer_names:
            continue
        peer = results.get(PEERS[name].name) if name in PEERS else None
        ratio = f"{result.requests_per_second / peer.requests_per_second:,.1f}x" if peer else "no peer"
        lines.append(row(result, ratio))
        if peer:
            lines.append(row(peer, "peer"))
    if missing:
        lines += ["", "Not measured (example or binding not in the tree): " + ", ".join(missing) + "."]
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text("\n".join(lines) + "\n")


def row(r: WrkResult, ratio: str) -> str:
    p = r.percentiles
    return (
        f"| {r.app} | {r.series:,} | {r.requests_per_second:,.1f} | {p.get('50', '-')} |"
        f" {p.get('90', '-')} | {p.get('99', '-')} | {r.errors} | {ratio} |"
    )


if __name__ == "__main__":
    sys.exit(main())

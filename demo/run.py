#!/usr/bin/env python3
"""`make demo`: the whole scrape path on loopback, up until Ctrl-C.

Installs what is missing, builds, starts the tenant apps, the router, the forward proxy
and four Prometheus servers (two replicas of Debian's 2.42, and two 3.16: one scraping
protobuf with native histograms, one OpenMetrics with UTF-8 names), writes the target
files with `gds-metrics-targets`, sends traffic, waits until every target is up on every
server, then prints what Prometheus sees. `--check` runs the same path, verifies it and
exits (0 when everything was up).
Everything started is stopped on the way out, also after a failure.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import causes  # noqa: E402
import monitoring  # noqa: E402
from processes import StartupError  # noqa: E402
from tour import tour  # noqa: E402
from stack import PROMETHEUS3, PROMETHEUS3_OPENMETRICS, Demo, format_table  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="verify the running demo, then stop and exit")
    parser.add_argument("--prepare", action="store_true", help="install and build only (for the tests)")
    parser.add_argument("--release", action="store_true", help="release builds (for the benchmark)")
    parser.add_argument("--no-install", action="store_true", help="do not install Debian packages")
    parser.add_argument("--no-build", action="store_true", help="use what is already built")
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, interrupt)
    # Also when started in the background of a script, where SIGINT starts out ignored.
    signal.signal(signal.SIGINT, interrupt)
    try:
        with Demo(name="check" if args.check else "run", release=args.release) as demo:
            report_missing(demo)
            if not args.no_install:
                demo.install()
            if not args.no_build:
                demo.build()
            if args.prepare:
                demo.prepare_tests()
                return 0
            demo.start()
            if any(app.kind == "exporter" for app in demo.apps):
                print("waiting for the overdue upload alert to reach the webhook receiver ...", flush=True)
                demo.wait_for_notification()
            print_report(demo)
            tour(demo)
            causes.walk(demo)
            if args.check:
                demo.verify_rules_loaded()
                print("check passed: every target up on every Prometheus server", flush=True)
                return 0
            print("\nThe demo is up. Press Ctrl-C to stop it.", flush=True)
            threading.Event().wait()
    except KeyboardInterrupt:
        print("\nstopped everything the demo started", flush=True)
        return 130 if args.check else 0
    except (StartupError, TimeoutError) as e:
        print(f"\ndemo failed: {e}", file=sys.stderr)
        return 1
    return 0


def interrupt(signum, frame) -> None:
    """SIGTERM and Ctrl-C take the same way out, so the `with` block stops everything."""
    raise KeyboardInterrupt


def report_missing(demo: Demo) -> None:
    for app in demo.missing:
        print(f"note: {app.name} is left out: its example or binding is not in this tree", flush=True)


def print_report(demo: Demo) -> None:
    print("\nTargets, from each Prometheus' /api/v1/targets:\n")
    print(demo.table())
    print(f"\nSample query on prometheus-a: {Demo.SAMPLE_QUERY}\n")
    print(format_table(("job", "code", "requests/s"), demo.sample_query()))
    print_prometheus3(demo)
    for replica in demo.prometheus:
        rules = demo.alerting_rules(replica)
        if rules:
            listed = ", ".join(f"{name} ({state})" for name, state in sorted(rules.items()))
            print(f"\nAlerting rules on prometheus-{replica}: {listed}")
    print_notifications(demo)
    print(monitoring.report(demo.alerting, demo.prometheus))
    print()
    print(format_table(("what", "url"), demo.urls()))
    print(f"\nLogs and generated configs: {demo.run_dir}", flush=True)


def print_prometheus3(demo: Demo) -> None:
    """What only Prometheus 3 has: native histograms, exemplars, UTF-8 names as declared."""
    print(
        f"\nOn Prometheus 3.16, the jobs route of every web app (prometheus-{PROMETHEUS3} scrapes"
        f" protobuf with native histograms, prometheus-{PROMETHEUS3_OPENMETRICS} OpenMetrics with UTF-8 names):\n"
    )
    for replica, what, query in Demo.PROMETHEUS3_QUERIES:
        print(f"  {what} on prometheus-{replica}: {query}")
    print()
    print(format_table(("server", "what", "job", "value"), demo.prometheus3_jobs()))
    print("\nNewest exemplars they stored (/api/v1/query_exemplars):\n")
    print(format_table(("server", "job", "metric", "trace_id"), demo.latest_exemplars()))


def print_notifications(demo: Demo) -> None:
    """What the webhook receiver (standing in for Slack) got from Alertmanager so far."""
    received = demo.alerting.received()
    print(f"\nNotifications the webhook receiver got from Alertmanager: {len(received)}")
    for notification in received:
        for alert in notification["body"].get("alerts", []):
            labels = alert.get("labels", {})
            print(
                f"  {notification['path']}: {alert.get('status')} {labels.get('alertname')}"
                f" {labels.get('source', '')} {labels.get('prefix', '')}: "
                f"{alert.get('annotations', {}).get('summary', '')}"
            )
    if not received:
        print("  (none within 90s: see the Alertmanager URL below and its log in the run directory)")


if __name__ == "__main__":
    sys.exit(main())

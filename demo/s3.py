"""S3 in the demo, as the PaaS runs it, and the upload exporter's Alertmanager route.

- A real S3 server (`s3s-fs`, installed by `make s3s-fs`) with SigV4 credentials. Its
  data directory is the demo's run directory, so the bucket `targets` is
  `<run>/targets` (the broker's store, written with `gds-metrics-targets apply --dir
  s3://targets`) and the bucket `uploads` is `<run>/uploads` (what partners upload and the
  upload exporter watches).
- One `gds-metrics-targets sync` per Prometheus, copying `s3://targets/active` into that
  server's own folder every second, with its metrics on a port of its own.
- The upload exporter's Alertmanager route (`alertmanager_config`), which the demo's
  Alertmanager cluster (`monitoring.py`) puts in front of the service's routing: the
  exporter's `alertmanager.yml` route with two time intervals computed around the current
  time, one open now (its receiver gets the alert) and one that opens twelve hours from now
  (its receiver must get nothing: the alert is muted outside its window).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

from apps import ROOT
from processes import Process, Supervisor
from web import answers

S3S_FS = Path(os.environ.get("S3S_FS", ROOT / ".build" / "tools" / "s3s-fs-0.14.1" / "bin" / "s3s-fs"))
ACCESS_KEY = "gds-demo"
SECRET_KEY = "gds-demo-secret-key"
TARGETS_BUCKET = "targets"
UPLOADS_BUCKET = "uploads"
#: How often each Prometheus host's `gds-metrics-targets sync` copies the targets bucket.
SYNC_INTERVAL_SECONDS = 1
INFRA_TIMEOUT = 60.0
#: Receivers of the two routes, as paths on the webhook receiver.
OPEN_WINDOW = "/uploads-team-open-window"
CLOSED_WINDOW = "/uploads-team-closed-window"


def available() -> bool:
    return S3S_FS.exists()


def missing_message() -> str:
    return f"the S3 server is not installed at {S3S_FS}; run `make s3s-fs`"


class ObjectStore:
    """The demo's S3 server; `env()` is what every S3 client in the demo is given."""

    def __init__(self, run_dir: Path, port: int):
        self.run_dir = run_dir
        self.port = port

    def env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "eu-west-2",
            "AWS_ALLOW_HTTP": "true",
        }

    def bucket_dir(self, bucket: str) -> Path:
        return self.run_dir / bucket

    def start(self, supervisor: Supervisor) -> Process:
        for bucket in (TARGETS_BUCKET, UPLOADS_BUCKET):
            self.bucket_dir(bucket).mkdir(parents=True, exist_ok=True)
        argv = [str(S3S_FS), "--host", "127.0.0.1", "--port", str(self.port)]
        argv += ["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, str(self.run_dir)]
        process = supervisor.start("s3s-fs", argv)
        # Any answer will do: an unsigned request is the server's own 403.
        supervisor.wait_ready(process, lambda: answers(self.port, "/", status=403), INFRA_TIMEOUT)
        return process


def sync_argv(cli: Path, target_dir: Path, metrics_port: int) -> list[str]:
    """`gds-metrics-targets sync`, as the cron job on each Prometheus host ran `aws s3 sync`."""
    source = f"s3://{TARGETS_BUCKET}/active"
    return [str(cli), "sync", "--interval", str(SYNC_INTERVAL_SECONDS), "--metrics-port", str(metrics_port), source,
            str(target_dir)]


def window_around(now: datetime, start_hours: float, length_hours: float) -> list[dict]:
    """`times` ranges (UTC, within days as Alertmanager wants) for a window starting
    `start_hours` from `now` and lasting `length_hours`; split at midnight if it crosses one."""
    start = now + timedelta(hours=start_hours)
    end = start + timedelta(hours=length_hours)
    ranges = []
    while start < end:
        midnight = (start + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        stop = min(end, midnight)
        ranges.append(
            {
                "start_time": start.strftime("%H:%M"),
                "end_time": "24:00" if stop == midnight else stop.strftime("%H:%M"),
            }
        )
        start = stop
    return ranges


def alertmanager_config(webhook_port: int, now: datetime | None = None) -> dict:
    """The exporter's route (prod-only matchers, time intervals) with webhook receivers."""
    now = now or datetime.now(timezone.utc)
    matchers = ['alertname=~"UploadMissing|UploadListingFailing"', 'environment="production"']

    def route(receiver: str, interval: str) -> dict:
        return {
            "receiver": receiver,
            "matchers": matchers,
            "active_time_intervals": [interval],
            "group_wait": "1s",
            "group_interval": "5s",
            "repeat_interval": "1h",
            "continue": True,
        }

    def receiver(name: str, path: str) -> dict:
        url = f"http://127.0.0.1:{webhook_port}{path}"
        return {"name": name, "webhook_configs": [{"url": url, "send_resolved": True}]}

    return {
        "route": {
            "receiver": "nobody",
            "group_by": ["alertname", "source", "prefix"],
            "routes": [route("open-window", "now"), route("closed-window", "in-twelve-hours")],
        },
        "receivers": [
            {"name": "nobody"},
            receiver("open-window", OPEN_WINDOW),
            receiver("closed-window", CLOSED_WINDOW),
        ],
        "time_intervals": [
            {"name": "now", "time_intervals": [{"times": window_around(now, -1, 3), "location": "UTC"}]},
            {
                "name": "in-twelve-hours",
                "time_intervals": [{"times": window_around(now, 12, 2), "location": "UTC"}],
            },
        ],
    }


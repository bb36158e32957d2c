"""End to end through S3 and Alertmanager, along the demo's own path.

Target files live in S3 (`s3s-fs`): the broker's writes go there with `gds-metrics-targets
apply --dir s3://targets`, and one `gds-metrics-targets sync` per Prometheus copies them
into that server's folder. The upload exporter watches the `uploads` bucket, and its
overdue alert goes through Alertmanager to a webhook receiver. A smaller demo than
test_e2e.py's (the Flask app and the exporter), run once for this module.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps import APPS  # noqa: E402
from kinds import KINDS  # noqa: E402
from processes import group_members, wait_until  # noqa: E402
from s3 import CLOSED_WINDOW, OPEN_WINDOW  # noqa: E402
from stack import REPLICAS, Demo  # noqa: E402

SCRAPE_INTERVAL = "2s"
CHANGE_TIMEOUT = 60.0
ALERT_TIMEOUT = 120.0
REJECTED = "targets_sync_objects_rejected"


@pytest.fixture(scope="module")
def demo():
    started_groups: list[int] = []
    apps = [app for app in APPS if app.kind in ("flask", "exporter")]
    with Demo(name="e2e-s3", apps=apps, scrape_interval=SCRAPE_INTERVAL) as running:
        try:
            running.start()
        finally:
            started_groups = [p.pgid for p in running.supervisor.processes]
        yield running
    leftovers = [pid for pgid in started_groups for pid in group_members(pgid)]
    assert leftovers == [], f"processes left running after the demo stopped: {leftovers}"


def all_started(demo: Demo, instances: int | None = None) -> dict:
    return {app.guid: ("started", app.facts(instances)) for app in demo.apps}


def flask_app(demo: Demo):
    return next(app for app in demo.apps if app.kind == "flask")


def file_in(demo: Demo, replica: str, guid: str) -> Path:
    return demo.target_dir(replica) / f"{guid}.json"


def test_every_prometheus_reads_the_files_its_sync_copied_from_s3(demo):
    for replica in REPLICAS:
        for app in demo.apps:
            assert file_in(demo, replica, app.guid).read_bytes() == (demo.targets.active_dir / f"{app.guid}.json").read_bytes()
        metrics = demo.sync_metrics(replica)
        assert metrics["targets_sync_files"] == len(demo.apps)
        assert metrics[REJECTED] == 0
        assert metrics["targets_sync_last_success_timestamp_seconds"] > 0


def test_a_bad_object_in_s3_is_rejected_and_the_previous_file_kept(demo):
    # The target updater would put the right file back at once: hold it still meanwhile.
    with demo.service.updater_paused():
        app = flask_app(demo)
        good = {replica: file_in(demo, replica, app.guid).read_bytes() for replica in REPLICAS}
        # A broken upload, written straight into the S3 server's storage (the CLI never writes one).
        (demo.targets.active_dir / f"{app.guid}.json").write_text('[{"targets": ["x"], "labels": {"bad-name": "1"}}]')
        for replica in REPLICAS:
            wait_until(lambda r=replica: demo.sync_metrics(r)[REJECTED] == 1, CHANGE_TIMEOUT, f"sync-{replica} to reject it")
            assert file_in(demo, replica, app.guid).read_bytes() == good[replica]
        demo.wait_for_targets(demo.expected_targets(), CHANGE_TIMEOUT)

        demo.targets.apply(all_started(demo))
        for replica in REPLICAS:
            wait_until(lambda r=replica: demo.sync_metrics(r)[REJECTED] == 0, CHANGE_TIMEOUT, f"sync-{replica} to recover")
            assert file_in(demo, replica, app.guid).read_bytes() == good[replica]


def test_an_unbound_apps_file_disappears_from_every_prometheus(demo):
    app = flask_app(demo)
    others = {guid: entry for guid, entry in all_started(demo).items() if guid != app.guid}
    # The app stays bound in the broker's records, and the updater writes the file of every
    # bound app that has none: it is held still while the CLI plays the unbind.
    with demo.service.updater_paused():
        demo.targets.apply(others)
        for replica in REPLICAS:
            wait_until(lambda r=replica: not file_in(demo, r, app.guid).exists(), CHANGE_TIMEOUT,
                       f"the file to leave {replica}")
        demo.wait_for_targets(demo.expected_targets([a for a in demo.apps if a != app]), CHANGE_TIMEOUT)

    demo.targets.apply(all_started(demo))
    demo.wait_for_targets(demo.expected_targets(), CHANGE_TIMEOUT)


def test_two_concurrent_writers_never_resurrect_an_unbound_target(demo):
    """Two target updaters race each other with app lists made before the broker unbound
    the app (the CLI's conditional writes and retries). The unbind itself is not raced: the
    S3 server used here checks `If-Match` before writing, not atomically with the write."""
    app = flask_app(demo)
    others = {guid: entry for guid, entry in all_started(demo).items() if guid != app.guid}
    # The broker's updater would write the still-bound app's file back: held still meanwhile.
    with demo.service.updater_paused():
        for _ in range(5):
            demo.targets.apply(all_started(demo))
            stale = [all_started(demo, instances) for instances in (3, 4)]
            demo.targets.apply(others)
            with ThreadPoolExecutor(max_workers=len(stale)) as pool:
                runs = [pool.submit(demo.targets.apply, state, only_listed=True) for state in stale]
                for run in runs:
                    run.result()  # a failed CLI run raises here
            assert not (demo.targets.active_dir / f"{app.guid}.json").exists()
        for replica in REPLICAS:
            wait_until(lambda r=replica: not file_in(demo, r, app.guid).exists(), CHANGE_TIMEOUT,
                       f"the file to leave {replica}")

    demo.targets.apply(all_started(demo))
    demo.wait_for_targets(demo.expected_targets(), CHANGE_TIMEOUT)


def test_the_overdue_alert_reaches_the_receiver_inside_its_window_only(demo):
    exporter = KINDS["exporter"]

    def overdue_alerts(path: str) -> list[dict]:
        return [
            alert
            for alert in demo.alerting.notified(path)
            if alert["status"] == "firing"
            and alert["labels"].get("alertname") == "UploadMissing"
            and alert["labels"].get("prefix") == exporter.STALE_PREFIX
        ]

    wait_until(lambda: overdue_alerts(OPEN_WINDOW), ALERT_TIMEOUT, "the overdue alert at the open window's receiver")
    alert = overdue_alerts(OPEN_WINDOW)[0]
    assert alert["labels"]["environment"] == "production"
    assert "replica" not in alert["labels"]
    # Both routes match the alert and share their timing; the closed one stays muted.
    with pytest.raises(TimeoutError):
        wait_until(lambda: demo.alerting.notified(CLOSED_WINDOW), 12.0, "a notification outside its window")

"""The causes of the service's alerts, created on a running demo and put back: the targets
bucket emptied, a target-file sync stopped, an Alertmanager killed, the target updater cut
off from the Cloud Controller; and of a tenant's: an app's collector failing.

Each cause is a context manager: entering creates it, leaving puts things back and waits
until the stack is whole again. `tests/test_alerting.py` asserts on them; `walk` is what
`make demo` prints after the tour: for each cause, the service alert that fires on which
Prometheus, what each receiver got, and the alert resolved once the cause is gone.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import monitoring
from monitoring import AlertmanagerCluster, Member
from processes import Process, free_ports, wait_until
from web import answers

#: Longest wait for an alert to reach a receiver, or for its resolution.
ALERT_TIMEOUT = 90.0


@contextlib.contextmanager
def targets_bucket_emptied(demo) -> Iterator[None]:
    """Every object of `s3://targets/active` moved aside: every sync copies an empty set and
    no Prometheus discovers a tenant target. Put back on the way out. The target updater,
    which writes the file of every bound app that has none, is held still meanwhile (left
    running, it would repair the bucket within one period)."""
    active = demo.targets.active_dir
    aside = demo.run_dir / "targets-set-aside"
    with demo.service.updater_paused():
        aside.mkdir()
        for path in active.glob("*.json"):
            path.rename(aside / path.name)
        try:
            yield
        finally:
            for path in aside.glob("*.json"):
                path.rename(active / path.name)
            aside.rmdir()
    demo.wait_for_targets(demo.expected_targets())


@contextlib.contextmanager
def sync_stopped(demo, replica: str) -> Iterator[str]:
    """`replica`'s sync stopped; yields its scrape instance. Started again on the way out."""
    demo.stop_sync(replica)
    try:
        yield f"127.0.0.1:{demo.sync_ports[replica]}"
    finally:
        demo.start_sync(replica)


@contextlib.contextmanager
def alertmanager_killed(alerting: AlertmanagerCluster, member: Member) -> Iterator[Member]:
    """`member` stopped and its data removed, so that when it is started again on the way out
    whatever it knows comes from its peers; waits until the cluster is meshed again."""
    alerting.stop_member(member)
    shutil.rmtree(alerting.run_dir / f"{member.name}-data")
    try:
        yield member
    finally:
        alerting.start_member(member)
    alerting.wait_until_meshed()


@contextlib.contextmanager
def updater_cut_off(demo) -> Iterator[str]:
    """The target updater restarted with a Cloud Controller URL nothing answers on (as after
    a redeploy with a wrong `CF_API_URL`): every run fails and it has not succeeded since it
    started. Yields its scrape instance. Restarted as it was on the way out."""
    environment = _environment(demo.service.updater)
    unanswered = free_ports(1)[0]
    _restart_updater(demo, {**environment, "CF_API_URL": f"http://127.0.0.1:{unanswered}"})
    try:
        yield f"127.0.0.1:{demo.service.ports['updater']}"
    finally:
        _restart_updater(demo, environment)


def _environment(process: Process) -> dict[str, str]:
    """The environment `process` runs with (the supervisor keeps no copy of it)."""
    raw = Path(f"/proc/{process.popen.pid}/environ").read_bytes().decode()
    return dict(entry.split("=", 1) for entry in raw.split("\0") if "=" in entry)


def _restart_updater(demo, environment: dict[str, str]) -> None:
    service, supervisor = demo.service, demo.supervisor
    argv = list(service.updater.popen.args)
    supervisor.stop(service.updater)
    service.updater = supervisor.start("updater", argv, environment)
    supervisor.wait_ready(service.updater, lambda: answers(service.ports["updater"], "/metrics"), monitoring.INFRA_TIMEOUT)


#: Where the Flask example keeps the files its spool collector counts: `spool` in the
#: instance's temporary directory (examples/flask-app/app.py).
SPOOL = "spool"


@contextlib.contextmanager
def spool_dir_removed(demo, instance) -> Iterator[Path]:
    """The spool directory of a Flask `instance` moved aside: its collector raises at every
    scrape, which counts it in `gds_metrics_collector_failures_total`. Put back on the way
    out. Yields the directory's path."""
    spool = demo.instance_tmp_dir(instance) / SPOOL
    aside = spool.with_name(f"{SPOOL}-set-aside")
    spool.rename(aside)
    try:
        yield spool
    finally:
        aside.rename(spool)


@dataclass(frozen=True)
class Cause:
    """A cause of the walk-through and the service alert it must fire at one receiver."""

    what: str
    alert: str
    receiver: str
    #: The `instance` labels of the alerts it fires (`-`: the alert has none).
    instances: tuple[str, ...]
    create: Callable[[], ContextManager]


def causes(demo) -> list[Cause]:
    replica = next(iter(demo.sync_ports))
    member = demo.alerting.members[-1]
    servers = tuple(sorted(f"127.0.0.1:{api.port}" for api in demo.prometheus.values()))
    return [
        Cause("the targets bucket emptied (s3://targets/active/*.json moved aside)",
              "PrometheusNoFileDiscoveryTargets", monitoring.PAGER, servers, lambda: targets_bucket_emptied(demo)),
        Cause(f"the sync of prometheus-{replica} stopped",
              "ServiceTargetDown", monitoring.TICKETS, (f"127.0.0.1:{demo.sync_ports[replica]}",),
              lambda: sync_stopped(demo, replica)),
        Cause(f"{member.name} killed",
              "AlertmanagerReplicasMissing", monitoring.PAGER, ("-",),
              lambda: alertmanager_killed(demo.alerting, member)),
    ]


def walk(demo, log: Callable[[str], None] = print) -> None:
    """Creates each cause in turn, shows its alert firing and resolved; raises TimeoutError
    when an alert does not arrive."""
    log("\nThe service's alerts, each cause created and put back in turn:")
    started = time.monotonic()
    for cause in causes(demo):
        _walk_one(demo, cause, log)
    log(f"\n  the three causes, fired and resolved, in {time.monotonic() - started:.1f}s")


def _walk_one(demo, cause: Cause, log: Callable[[str], None]) -> None:
    alerting = demo.alerting
    seen_before = len(alerting.received())

    def told(status: str, instances: tuple[str, ...]) -> bool:
        """Whether the receiver was told the cause's alert has `status` for all `instances`:
        firing in one notification (a group grows as each server notices); resolved in one
        or several, since Alertmanager drops an alert from its group once a notification
        has told it resolved, so servers that resolve apart are told apart. Told per
        alert: on a busy machine a scrape may time out, and another target of the same
        alert share the group."""
        told_resolved: set[str] = set()
        for n in alerting.received()[seen_before:]:
            body = n["body"]
            if n["path"] != cause.receiver or body.get("groupLabels", {}).get("alertname") != cause.alert:
                continue
            statuses = {a["labels"].get("instance", "-"): a.get("status") for a in body.get("alerts", [])}
            if all(statuses.get(instance) == status for instance in instances):
                return True
            if status == "resolved":
                told_resolved |= {instance for instance, told in statuses.items() if told == "resolved"}
                if set(instances) <= told_resolved:
                    return True
        return False

    log(f"\n  cause: {cause.what}")
    started = time.monotonic()
    with cause.create():
        wait_until(
            lambda: any(told("firing", (i,)) for i in cause.instances), ALERT_TIMEOUT, f"{cause.alert} at {cause.receiver}"
        )
        log(f"    {cause.alert} reached {cause.receiver} after {time.monotonic() - started:.1f}s")
        firing = _wait_firing_everywhere(demo, cause)
        for replica, instances in firing.items():
            named = ", ".join(i for i in instances if i != "-")
            log(f"    firing on prometheus-{replica}: {cause.alert} {named}".rstrip())
        # A group grows as each server notices: wait for the notification naming them all.
        wait_until(
            lambda: told("firing", cause.instances),
            ALERT_TIMEOUT,
            f"{cause.alert} for {', '.join(cause.instances)} at {cause.receiver}",
        )
        _log_received(alerting, seen_before, cause.alert, log)
        restored = time.monotonic()
    log("  put back")
    wait_until(lambda: told("resolved", cause.instances), ALERT_TIMEOUT, f"{cause.alert} resolved at {cause.receiver}")
    log(f"    {cause.alert} resolved at {cause.receiver} {time.monotonic() - restored:.1f}s later")
    _log_received(alerting, seen_before, cause.alert, log, status="resolved")


def _wait_firing_everywhere(demo, cause: Cause) -> dict[str, tuple[str, ...]]:
    """Per Prometheus, the instances the cause's alert fires for, once every one fires it
    for every instance the cause affects."""

    def firing() -> dict[str, tuple[str, ...]]:
        return {
            replica: _instances({"alerts": [a for a in api.alerts() if a["state"] == "firing"]}, cause.alert)
            for replica, api in demo.prometheus.items()
        }

    wait_until(
        lambda: all(set(cause.instances) <= set(instances) for instances in firing().values()),
        ALERT_TIMEOUT,
        f"{cause.alert} firing for {', '.join(cause.instances)} on every Prometheus",
    )
    return firing()


def _instances(notification: dict, alert: str | None = None) -> tuple[str, ...]:
    """Sorted `instance` labels of the notification's alerts (of `alert` only, if given)."""
    return tuple(
        sorted(
            a["labels"].get("instance", "-")
            for a in notification["alerts"]
            if alert is None or a["labels"].get("alertname") == alert
        )
    )


def _log_received(
    alerting: AlertmanagerCluster, seen_before: int, alert: str, log: Callable[[str], None], status: str = "firing"
) -> None:
    """Every notification of `alert` with `status` since the cause was created, whichever
    receiver got it: one per group (and update of a group), although four Prometheus send
    to three Alertmanagers."""
    for n in alerting.received()[seen_before:]:
        body = n["body"]
        if body.get("groupLabels", {}).get("alertname") != alert or body.get("status") != status:
            continue
        group = ", ".join(f"{k}={v}" for k, v in sorted(body.get("groupLabels", {}).items()))
        log(f"    {n['path']} got: {body.get('status')} {{{group}}} with {len(body.get('alerts', []))} alert(s)")

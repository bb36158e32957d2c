"""End to end: the service watching itself (service/monitoring/, demo/monitoring.py).

Four Prometheus (2.42 and 3.16) load the service's and tenants' rule packs, scrape
themselves, the three meshed Alertmanagers and the syncs, and send every alert to all
three Alertmanagers, which notify webhook stand-ins (pager, tickets, Slack) and the dead
man's switch stand-in. Everything is measured by what the receivers got. One demo runs for
the module, with two tenant apps: the Dropwizard one (one process, so its series limit is
reached by one flood) and the Flask one (whose spool collector fails when its directory is
gone); the tests act in file order and each leaves the stack as it found it.

Proving that something is *not* sent needs a window of time: `stays` polls for the
window in which the cluster would have sent it (two peer timeouts, the third member's
wait, plus a group interval) and fails as soon as it arrives.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import monitoring  # noqa: E402
from apps import APPS  # noqa: E402
from causes import (  # noqa: E402
    ALERT_TIMEOUT,
    alertmanager_killed,
    spool_dir_removed,
    sync_stopped,
    targets_bucket_emptied,
    updater_cut_off,
    walk,
)
from jobs import job_path  # noqa: E402
from kinds import KINDS  # noqa: E402
from processes import wait_until  # noqa: E402
from stack import PROMETHEUS3, REPLICAS, Demo, Instance, started_demo  # noqa: E402
from web import request  # noqa: E402

SCRAPE_INTERVAL = "2s"
#: Two peer timeouts (the third member's wait) and a group interval of the demo's values.
DEDUP_WINDOW_SECONDS = 2 * 2.0 + 2.0 + 2.0
WRONG_GUID = "0badc0de-0000-4000-8000-00000000a1e7"
#: More distinct queues than a family's default series limit (2,000).
FLOODED_QUEUES = 2_050
DASHBOARDS = monitoring.MONITORING / "dashboards"
#: Self-scrape jobs and how many targets each has in the demo.
SELF_TARGETS = {"prometheus": 4, "alertmanager": 3, "targets-sync": 4, "broker": 1, "updater": 1, "node": 1}
#: The tenant apps of the module's demo: the series limit is flooded on the first, the
#: collector of the second made to fail.
TENANT_KINDS = ("dropwizard", "flask")
#: Every name the broker and the updater export (service/broker/src/metrics.rs), as scraped.
BROKER_NAMES = {
    "gds_prometheus_broker_requests_total",
    "gds_prometheus_broker_cloud_controller_errors_total",
    "gds_prometheus_broker_store_errors_total",
    "gds_prometheus_updater_last_success_timestamp_seconds",
    "gds_prometheus_updater_failed_runs_total",
    "gds_prometheus_updater_apps",
    "gds_prometheus_updater_files_written_total",
    "gds_prometheus_updater_files_removed_total",
    "gds_prometheus_updater_run_duration_seconds",
    "gds_prometheus_updater_cloud_controller_errors_total",
}


@pytest.fixture(scope="module")
def demo():
    apps = [app for app in APPS if app.kind in TENANT_KINDS]
    assert sorted(app.kind for app in apps) == sorted(TENANT_KINDS)
    assert all(KINDS[app.kind].available() for app in apps), f"an example of {TENANT_KINDS} is not in the tree"
    with started_demo(name="e2e-alerting", apps=apps, scrape_interval=SCRAPE_INTERVAL) as running:
        yield running


def stays(condition, seconds: float, what: str) -> None:
    """Fails as soon as `condition` stops holding within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert condition(), what
        time.sleep(0.2)
    assert condition(), what


def first_instance(demo: Demo, kind: str) -> Instance:
    return next(i for i in demo.instances if i.app.kind == kind and i.index == 0)


def held_by_every_member(alerting, alertname: str, instance: str) -> bool:
    """Whether every running Alertmanager holds `alertname` for `instance` only, inhibited."""
    for member in alerting.running():
        held = [a for a in alerting.alerts(member) if a["labels"]["alertname"] == alertname]
        if [a["labels"].get("instance") for a in held] != [instance]:
            return False
        if any(a["status"]["state"] != "suppressed" or not a["status"]["inhibitedBy"] for a in held):
            return False
    return True


def alert_names(path: Path) -> set[str]:
    return {rule["alert"] for group in yaml.safe_load(path.read_text())["groups"] for rule in group["rules"]}


# -- the rules and the self-scrape ----------------------------------------------------------------


def test_both_rule_packs_load_and_evaluate_on_prometheus_2_and_3(demo):
    expected = set().union(*(alert_names(path) for path in monitoring.RULE_FILES))
    for replica, api in demo.prometheus.items():
        groups = api.get("rules", type="alert")["groups"]
        rules = {rule["name"]: rule for group in groups for rule in group["rules"]}
        assert expected <= set(rules), f"prometheus-{replica} lacks {expected - set(rules)}"
        broken = {name: rule.get("lastError") for name, rule in rules.items() if rule["health"] == "err"}
        assert broken == {}, f"prometheus-{replica}"


def test_every_prometheus_scrapes_itself_the_others_the_alertmanagers_the_syncs_the_broker_the_updater_and_the_host(demo):
    def self_targets(replica: str) -> dict[str, list[str]]:
        targets = demo.prometheus[replica].active_targets(scrape_pool=None)
        by_job: dict[str, list[str]] = {}
        for t in targets:
            if t["labels"]["job"] in SELF_TARGETS:
                by_job.setdefault(t["labels"]["job"], []).append(t["health"])
        return by_job

    for replica in demo.prometheus:
        wait_until(
            lambda r=replica: {j: h.count("up") for j, h in self_targets(r).items()} == SELF_TARGETS,
            ALERT_TIMEOUT,
            f"every service target up on prometheus-{replica}",
        )


def test_every_prometheus_sends_alerts_to_all_three_alertmanagers(demo):
    members = sorted(f"{m.url}/api/v2/alerts" for m in demo.alerting.members)
    assert len(members) == monitoring.MEMBERS == 3
    for replica, api in demo.prometheus.items():
        discovered = api.get("alertmanagers")
        assert sorted(a["url"] for a in discovered["activeAlertmanagers"]) == members, f"prometheus-{replica}"
        assert discovered["droppedAlertmanagers"] == [], f"prometheus-{replica}"


# -- the dead man's switch ------------------------------------------------------------------------


def test_the_dead_mans_switch_reaches_its_own_receiver_only(demo):
    alerting = demo.alerting
    wait_until(lambda: alerting.deadman()["heartbeats"] >= 3, ALERT_TIMEOUT, "three heartbeats at the stand-in")
    elsewhere = [
        n["path"]
        for n in alerting.received()
        if any(a["labels"].get("alertname") == "DeadMansSwitch" for a in n["body"].get("alerts", []))
    ]
    assert elsewhere == []
    assert alerting.deadman()["missing"] is False


def test_a_silence_created_on_one_member_is_honoured_by_all_and_the_missing_heartbeat_is_noticed(demo):
    alerting = demo.alerting
    creator, other = alerting.members[-1], alerting.members[0]
    silence = alerting.silence(creator, {"alertname": "DeadMansSwitch"})

    def stand_in_told() -> list[str]:
        return [n["body"]["status"] for n in alerting.received() if n["path"] == monitoring.DEADMANSSWITCH_MISSING]

    try:
        wait_until(
            lambda: all(silence in alerting.active_silences(m) for m in alerting.members),
            ALERT_TIMEOUT,
            "the silence gossiped to every member",
        )
        # No member sends the heartbeat any more: the outside stand-in notices and alerts.
        wait_until(lambda: stand_in_told() == ["firing"], ALERT_TIMEOUT, "the stand-in's missing-heartbeat alert")
        status = alerting.deadman()
        assert status["missing"] is True
        assert status["seconds_since_last"] > monitoring.DEADMANSSWITCH_TIMEOUT_SECONDS
    finally:
        # Expired on another member than the one it was created on.
        alerting.expire(other, silence)
    wait_until(lambda: stand_in_told() == ["firing", "resolved"], ALERT_TIMEOUT, "the heartbeat to come back")
    assert alerting.deadman()["missing"] is False


# -- one notification per group, routing and inhibition --------------------------------------------


def test_one_notification_per_alert_group_from_four_prometheus_and_three_alertmanagers(demo):
    alerting = demo.alerting
    with sync_stopped(demo, REPLICAS[1]) as instance:
        wait_until(
            lambda: alerting.notifications(monitoring.TICKETS, "ServiceTargetDown", job="targets-sync"),
            ALERT_TIMEOUT,
            "the ticket for the stopped sync",
        )
        # Every Prometheus fires it, and every member holds it: all twelve copies arrived.
        for api in demo.prometheus.values():
            wait_until(
                lambda a=api: any(
                    alert["labels"]["alertname"] == "ServiceTargetDown" and alert["labels"]["instance"] == instance
                    for alert in a.alerts()
                    if alert["state"] == "firing"
                ),
                ALERT_TIMEOUT,
                f"ServiceTargetDown firing on {api.name}",
            )
        for member in alerting.members:
            held = [a for a in alerting.alerts(member) if a["labels"]["alertname"] == "ServiceTargetDown"]
            assert [a["labels"]["instance"] for a in held] == [instance], member.name
        stays(
            lambda: len(alerting.notifications(monitoring.TICKETS, "ServiceTargetDown", job="targets-sync")) == 1,
            DEDUP_WINDOW_SECONDS,
            "a second notification of the same group",
        )
        (ticket,) = alerting.notifications(monitoring.TICKETS, "ServiceTargetDown", job="targets-sync")
        assert ticket["receiver"] == "service-tickets"
        assert ticket["groupLabels"] == {"alertname": "ServiceTargetDown", "product": "prometheus-service", "job": "targets-sync"}
        assert [a["labels"]["instance"] for a in ticket["alerts"]] == [instance]
        assert "replica" not in ticket["alerts"][0]["labels"]
        # Routed by severity: neither the pager nor a channel heard of it.
        for path in (monitoring.PAGER, monitoring.SERVICE_SLACK, monitoring.TENANT_SLACK):
            assert alerting.notifications(path, "ServiceTargetDown") == [], path
    wait_until(
        lambda: alerting.notifications(monitoring.TICKETS, "ServiceTargetDown", "resolved", job="targets-sync"),
        ALERT_TIMEOUT,
        "the ticket's resolution",
    )
    # A resolution is deduplicated less strictly than a firing notification: the four
    # Prometheus resolve the alert at different moments, so members whose view of the
    # group differed may each send theirs (Alertmanager's cluster promises at least once).
    # At most one per member, never more.
    stays(
        lambda: 1
        <= len(alerting.notifications(monitoring.TICKETS, "ServiceTargetDown", "resolved", job="targets-sync"))
        <= len(alerting.members),
        DEDUP_WINDOW_SECONDS,
        "more resolutions of the same group than Alertmanagers",
    )


def test_with_one_alertmanager_killed_delivery_goes_on_the_symptoms_are_inhibited_and_it_rejoins(demo):
    alerting = demo.alerting
    victim = alerting.members[0]
    before = {s for m in alerting.members for s in alerting.active_silences(m)}
    kept = alerting.silence(alerting.members[1], {"alertname": "NothingFiresThis"})
    wait_until(lambda: kept in alerting.active_silences(victim), ALERT_TIMEOUT, "the silence on every member")
    # Started afresh on the way out: whatever it knows then came from its peers.
    with alertmanager_killed(alerting, victim):
        wait_until(
            lambda: alerting.notifications(monitoring.PAGER, "AlertmanagerReplicasMissing"),
            ALERT_TIMEOUT,
            "the page for the missing Alertmanager, from the two left",
        )
        # The symptoms fire in Prometheus but the cluster holds them back (inhibited).
        survivors = alerting.running()

        def symptom(alert: dict) -> bool:
            labels = alert["labels"]
            return labels.get("alertname") == "PrometheusNotificationsFailing" or (
                labels.get("alertname") == "ServiceTargetDown" and labels.get("job") == "alertmanager"
            )

        def symptoms_inhibited() -> bool:
            for member in survivors:
                held = [a for a in alerting.alerts(member) if symptom(a)]
                names = {a["labels"]["alertname"] for a in held}
                if names != {"ServiceTargetDown", "PrometheusNotificationsFailing"}:
                    return False
                if any(a["status"]["state"] != "suppressed" or not a["status"]["inhibitedBy"] for a in held):
                    return False
            return True

        wait_until(symptoms_inhibited, ALERT_TIMEOUT, "the symptoms held by the survivors, inhibited")
        stays(
            lambda: len(alerting.notifications(monitoring.PAGER, "AlertmanagerReplicasMissing")) == 1,
            DEDUP_WINDOW_SECONDS,
            "a second page for the same group",
        )
        told = [n["path"] for n in alerting.received() if any(symptom(a) for a in n["body"].get("alerts", []))]
        assert told == []
    # The restarted member learnt the cluster's silences from its peers.
    assert kept in alerting.active_silences(victim)
    assert before <= alerting.active_silences(victim)
    wait_until(
        lambda: alerting.notifications(monitoring.PAGER, "AlertmanagerReplicasMissing", "resolved"),
        ALERT_TIMEOUT,
        "the page's resolution once the member is back",
    )
    alerting.expire(victim, kept)


def test_an_emptied_targets_bucket_pages_for_every_prometheus_without_duplicate_pages(demo):
    alerting = demo.alerting
    with targets_bucket_emptied(demo):
        servers = {f"127.0.0.1:{api.port}" for api in demo.prometheus.values()}

        def paged_sets() -> list[frozenset[str]]:
            pages = alerting.notifications(monitoring.PAGER, "PrometheusNoFileDiscoveryTargets")
            return [frozenset(a["labels"]["instance"] for a in page["alerts"]) for page in pages]

        wait_until(lambda: paged_sets() and paged_sets()[-1] == servers, ALERT_TIMEOUT, "a page naming every Prometheus")
        # The group grows as each server notices (one page, then updates); a member sending
        # its own copy would repeat a page with the same servers.
        stays(
            lambda: len(set(paged_sets())) == len(paged_sets()),
            DEDUP_WINDOW_SECONDS,
            "the same page twice",
        )
    wait_until(
        lambda: alerting.notifications(monitoring.PAGER, "PrometheusNoFileDiscoveryTargets", "resolved"),
        ALERT_TIMEOUT,
        "the page's resolution once the files are back",
    )


def test_an_updater_that_never_succeeds_pages_and_its_failing_runs_are_inhibited(demo):
    alerting = demo.alerting
    with updater_cut_off(demo) as instance:
        wait_until(
            lambda: alerting.notifications(monitoring.PAGER, "BrokerUpdaterNotSucceeding"),
            ALERT_TIMEOUT,
            "the page for the updater that does not succeed",
        )
        # Its failing runs fire in every Prometheus, but the cluster holds them back.
        for api in demo.prometheus.values():
            wait_until(
                lambda a=api: any(
                    alert["labels"]["alertname"] == "BrokerUpdaterRunsFailing" and alert["state"] == "firing"
                    for alert in a.alerts()
                ),
                ALERT_TIMEOUT,
                f"BrokerUpdaterRunsFailing firing on {api.name}",
            )
        wait_until(
            lambda: held_by_every_member(alerting, "BrokerUpdaterRunsFailing", instance),
            ALERT_TIMEOUT,
            "the failing runs held by every Alertmanager, inhibited",
        )
        stays(
            lambda: alerting.notifications(monitoring.TICKETS, "BrokerUpdaterRunsFailing") == [],
            DEDUP_WINDOW_SECONDS,
            "a ticket for the failing runs while the outage pages",
        )
        (page,) = alerting.notifications(monitoring.PAGER, "BrokerUpdaterNotSucceeding")
        assert [a["labels"]["instance"] for a in page["alerts"]] == [instance]
        assert page["groupLabels"] == {"alertname": "BrokerUpdaterNotSucceeding", "product": "prometheus-service", "job": "updater"}
    wait_until(
        lambda: alerting.notifications(monitoring.PAGER, "BrokerUpdaterNotSucceeding", "resolved"),
        ALERT_TIMEOUT,
        "the page's resolution once the updater reaches the Cloud Controller again",
    )


def test_the_walk_through_of_make_demo_fires_and_resolves_each_cause_and_the_report_shows_it(demo):
    printed: list[str] = []
    walk(demo, printed.append)
    lines = "\n".join(printed).splitlines()
    receivers = {
        "PrometheusNoFileDiscoveryTargets": monitoring.PAGER,
        "ServiceTargetDown": monitoring.TICKETS,
        "AlertmanagerReplicasMissing": monitoring.PAGER,
    }
    for alert, receiver in receivers.items():
        assert any(re.fullmatch(rf"    {alert} reached {receiver} after \d+\.\ds", line) for line in lines), alert
        assert any(re.fullmatch(rf"    {alert} resolved at {receiver} \d+\.\ds later", line) for line in lines), alert
        for replica in demo.prometheus:
            assert any(line.startswith(f"    firing on prometheus-{replica}: {alert}") for line in lines), (alert, replica)
    assert [line for line in lines if line.startswith("  cause: ")] == [
        f"  cause: {cause}"
        for cause in (
            "the targets bucket emptied (s3://targets/active/*.json moved aside)",
            f"the sync of prometheus-{next(iter(demo.sync_ports))} stopped",
            f"{demo.alerting.members[-1].name} killed",
        )
    ]
    assert lines.count("  put back") == 3
    assert re.fullmatch(r"  the three causes, fired and resolved, in \d+\.\ds", lines[-1])

    report = monitoring.report(demo.alerting, demo.prometheus).splitlines()
    assert [line for line in report if line.startswith("  alertmanager-")] == [
        f"  {m.name} {m.url}: 3" for m in demo.alerting.members
    ]
    for replica in demo.prometheus:
        (line,) = [line for line in report if line.startswith(f"  prometheus-{replica}: ")]
        assert "DeadMansSwitch" in line.split(": ", 1)[1].split(", ")
    (pager,) = [line for line in report if line.startswith(f"  {monitoring.PAGER}: ")]
    for alert in ("PrometheusNoFileDiscoveryTargets", "AlertmanagerReplicasMissing"):
        assert f"firing {alert} x" in pager and f"resolved {alert} x" in pager, alert
    assert re.fullmatch(r"Dead man's switch stand-in: \d+ heartbeats, missing=False", report[-1])


# -- dashboards and metric names -----------------------------------------------------------------


@pytest.fixture(scope="module")
def tenant_trouble(demo):
    """Scrapes refused with 403 (a target file with a wrong GUID) and label sets refused by
    the series limit (more queues than 2,000) on the Dropwizard app, so that every tenant
    panel has data; and the Flask app's spool collector failing for a while."""
    instance = first_instance(demo, "dropwizard")
    app = instance.app
    groups = demo.targets.render(app.facts())
    wrong = groups[instance.index]
    wrong["labels"]["__param_cf_app_guid"] = WRONG_GUID
    wrong["labels"]["job"] = f"{app.name}-wrong-guid"
    path = demo.targets.active_dir / f"{WRONG_GUID}.json"
    path.write_text(json.dumps([wrong]) + "\n")
    refused = f'http_server_requests_total{{job="{app.name}", code="403"}}'
    try:
        wait_until(lambda: demo.prometheus[REPLICAS[0]].query(f"sum({refused}) > 0"), ALERT_TIMEOUT, "scrapes refused with 403")
    finally:
        path.unlink()
    for queue in range(FLOODED_QUEUES):
        demo.via_router(instance, job_path(f"flood-{queue}", 0))
    for api in demo.prometheus.values():
        wait_until(
            # Two scrapes of it at least, so a rate over it has a value.
            lambda a=api: a.query(f'count_over_time(gds_metrics_series_refused_total{{job="{app.name}"}}[1m]) >= 2'),
            ALERT_TIMEOUT,
            f"label sets refused by the series limit on {api.name}",
        )
    failing = first_instance(demo, "flask")
    with spool_dir_removed(demo, failing):
        for api in demo.prometheus.values():
            wait_until(
                lambda a=api: a.query(
                    f'count_over_time(gds_metrics_collector_failures_total{{instance="{failing.label}"}}[1m]) >= 2'
                ),
                ALERT_TIMEOUT,
                f"the spool collector's failures scraped by {api.name}",
            )
    return app


def collector_failures(instance: Instance) -> dict[str, float]:
    """`gds_metrics_collector_failures_total` of `instance` by `collector`, from its own scrape."""
    token = {"Authorization": f"Bearer {instance.app.guid}"}
    text = request(instance.port, "/metrics", token).text
    found = re.findall(r'^gds_metrics_collector_failures_total\{collector="([^"]*)"\} (\S+)$', text, flags=re.MULTILINE)
    return {collector: float(value) for collector, value in found}


def test_a_failing_collector_is_counted_and_fires_tenant_collector_failing_at_the_tenants_channel(demo, tenant_trouble):
    instance = first_instance(demo, "flask")
    (collector, failures), *others = collector_failures(instance).items()
    assert others == [] and failures >= 2
    assert collector == "app.spool_families", "named by the function the app registered"
    # Only while the directory was gone: the spool gauge is back and the count stays put.
    text = request(instance.port, "/metrics", {"Authorization": f"Bearer {instance.app.guid}"}).text
    assert "\ndemo_spool_files 0.0\n" in text
    assert collector_failures(instance) == {collector: failures}
    alerting = demo.alerting
    wait_until(
        lambda: alerting.notifications(monitoring.TENANT_SLACK, "TenantCollectorFailing", job=instance.app.name),
        ALERT_TIMEOUT,
        "TenantCollectorFailing at the tenants' channel",
    )
    (told,) = alerting.notifications(monitoring.TENANT_SLACK, "TenantCollectorFailing", job=instance.app.name)
    assert told["receiver"] == "tenant-slack"
    assert told["groupLabels"] == {"alertname": "TenantCollectorFailing", "job": instance.app.name}
    (alert,) = told["alerts"]
    assert {k: alert["labels"][k] for k in ("instance", "collector", "severity", "product")} == {
        "instance": instance.label,
        "collector": collector,
        "severity": "ticket",
        "product": "tenant-apps",
    }
    for path in (monitoring.PAGER, monitoring.TICKETS, monitoring.SERVICE_SLACK):
        assert alerting.notifications(path, "TenantCollectorFailing") == [], path


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, expr) of every panel target of the committed dashboards."""
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            out += [(path.name, panel["title"], target["expr"]) for target in panel["targets"]]
    return out


def test_every_dashboard_query_is_valid_and_has_data_on_prometheus_2_and_3(demo, tenant_trouble):
    queries = dashboard_queries()
    assert {d for d, _, _ in queries} == {"tenant.json", "service.json"}
    variables = {"$job": tenant_trouble.name, "$instance": ".*", "$__rate_interval": "1m"}
    empty = []
    for replica, api in demo.prometheus.items():
        for dashboard, title, expr in queries:
            for name, value in variables.items():
                expr = expr.replace(name, value)
            if not api.query(expr):  # an invalid query raises, with Prometheus' error
                empty.append((replica, dashboard, title, expr))
    assert empty == []


#: A Grafana query variable: the values of `label` on the series `selector` matches.
LABEL_VALUES = re.compile(r"label_values\((?P<selector>.+), *(?P<label>\w+)\)")


def variable_queries() -> list[tuple[str, str, str, str]]:
    """(dashboard, variable, series selector, label) of every query variable of the committed
    dashboards."""
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for variable in json.loads(path.read_text())["templating"]["list"]:
            if variable["type"] != "query":
                continue
            match = LABEL_VALUES.fullmatch(variable["query"])
            assert match, f"{path.name}: variable {variable['name']} is not label_values(selector, label)"
            out.append((path.name, variable["name"], match["selector"], match["label"]))
    return out


def test_every_dashboard_variable_lists_the_apps_and_their_instances_on_prometheus_2_and_3(demo, tenant_trouble):
    variables = variable_queries()
    assert [(dashboard, name) for dashboard, name, _, _ in variables] == [("tenant.json", "job"), ("tenant.json", "instance")]
    app = tenant_trouble.name
    expected = {
        "job": {a.name for a in demo.apps},
        "instance": {i.label for i in demo.instances if i.app.name == app},
    }
    for replica, api in demo.prometheus.items():
        for _, name, selector, label in variables:
            values = api.get(f"label/{label}/values", **{"match[]": selector.replace("$job", app)})
            assert set(values) == expected[name], f"prometheus-{replica}: ${name}"


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, keywords,
    label names (in `{...}` or `by (...)`) or inside strings."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    keywords = {"and", "or", "unless", "offset", "bool", "inf", "nan", "group_left", "group_right"}
    names = re.findall(r"(?<![\w$])([a-zA-Z_:][\w:]*)\b(?!\s*\()", expr)
    return {n for n in names if n.lower() not in keywords}


def referenced_names() -> set[str]:
    exprs = [rule["expr"] for path in monitoring.RULE_FILES for g in yaml.safe_load(path.read_text())["groups"] for rule in g["rules"]]
    exprs += [expr for _, _, expr in dashboard_queries()]
    exprs += [selector for _, _, selector, _ in variable_queries()]
    return set().union(*(metric_names(e) for e in exprs))


def test_metric_names_skips_functions_label_names_keywords_and_ranges():
    assert metric_names('sum by (job, le) (rate(x_bucket{code=~"5.."}[5m])) / ignoring(a) y > 2 * vector(1)') == {"x_bucket", "y"}


def test_every_metric_name_in_the_rules_and_dashboards_is_in_a_real_scrape(demo, tenant_trouble):
    scraped = set()
    for api in demo.prometheus.values():
        scraped |= set(api.get("label/__name__/values"))
    names = referenced_names()
    assert {"up", "http_server_requests_total", "alertmanager_cluster_members", "targets_sync_files"} <= names
    assert {"gds_metrics_collector_failures_total", "gds_metrics_series_refused_total"} <= names
    assert {"node_filesystem_avail_bytes", "node_filesystem_size_bytes"} <= names
    # A histogram's family name (the native histogram's series) is exported as its buckets.
    missing = {n for n in names if n not in scraped and f"{n}_bucket" not in scraped}
    assert missing == set()
    # Every name the broker and the updater export is scraped, whether a rule uses it or not.
    assert BROKER_NAMES - scraped == set()
    assert PROMETHEUS3 in demo.prometheus

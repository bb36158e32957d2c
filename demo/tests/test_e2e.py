"""End to end: real Prometheus, nginx and the example apps, along the demo's own path.

One demo runs for the whole module (starting it is the slow part); the tests act on it
in file order, each leaving it as it found it. The fixture stops every process at the end
and checks none is left, whatever the tests did. Run through `make test-e2e`, which
installs and builds first (`demo/run.py --prepare`).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jobs import (  # noqa: E402
    JOB_HISTOGRAM,
    JOBS_COUNTER,
    JOBS_COUNTER_ESCAPED,
    Job,
    Trace,
    classic_bucket,
    job_path,
    native_bucket,
    parse_job,
    quantile_bucket,
    run_concurrently,
)
from kinds import KINDS  # noqa: E402
from processes import Supervisor, free_ports, group_members, wait_until  # noqa: E402
from stack import PROMETHEUS3, PROMETHEUS3_OPENMETRICS, REPLICAS, Demo, Instance, nginx_argv, prometheus_time  # noqa: E402
from tour import tour  # noqa: E402
from web import answers, request  # noqa: E402

SCRAPE_INTERVAL = "2s"
CHANGE_TIMEOUT = 60.0
ALERT_TIMEOUT = 120.0
WRONG_GUID = "0badc0de-0000-4000-8000-00000000f00d"

#: CONTRACT section 4: the families every binding exposes, and their label names.
REQUEST_FAMILIES = {
    "http_server_requests_total": {"method", "host", "path", "code"},
    "http_server_request_duration_seconds_bucket": {"method", "host", "path", "code", "le"},
    "http_server_request_duration_seconds_count": {"method", "host", "path", "code"},
    "http_server_request_duration_seconds_sum": {"method", "host", "path", "code"},
}
EXCEPTION_FAMILY = {"http_server_exceptions_total": {"error"}}
#: The examples with the jobs route (demo/jobs.py), each recording exemplars, and those
#: running several worker processes, whose metrics share exemplars across them
#: (`exemplars_across_processes`).
JOB_KINDS = ("flask", "sinatra", "dropwizard")
MULTI_PROCESS_KINDS = ("flask", "sinatra")
TARGET_LABELS = {"job", "instance", "org", "space"}


@pytest.fixture(scope="module")
def demo():
    started_groups: list[int] = []
    with Demo(name="e2e", scrape_interval=SCRAPE_INTERVAL) as running:
        try:
            running.start()
        finally:
            started_groups = [p.pgid for p in running.supervisor.processes]
        yield running
    leftovers = [pid for pgid in started_groups for pid in group_members(pgid)]
    assert leftovers == [], f"processes left running after the demo stopped: {leftovers}"


def targets_of(demo: Demo, replica: str) -> list[dict]:
    return demo.prometheus[replica].active_targets()


# -- every target up, with the contract's labels ----------------------------------------------


def test_every_instance_is_up_on_every_prometheus_server(demo):
    expected = demo.expected_targets()
    assert len(expected) == sum(app.instances for app in demo.apps)
    for replica in demo.prometheus:
        health = demo.targets_by_health(replica)
        assert health == {key: "up" for key in expected}, replica


def test_targets_carry_exactly_the_contract_labels(demo):
    for replica in REPLICAS:
        for target in targets_of(demo, replica):
            app = next(a for a in demo.apps if a.name == target["labels"]["job"])
            instance = target["labels"]["instance"]
            index = instance.rsplit(":", 1)[1]
            expected = {"job": app.name, "instance": f"{app.guid}:{index}", "org": "gds-demo"}
            if not app.exporter:
                expected["space"] = "sandbox"
            assert target["labels"] == expected
            discovered = target["discoveredLabels"]
            assert discovered["__param_cf_app_guid"] == app.guid
            assert discovered["__param_cf_app_instance"] == f"{app.guid}:{index}"
            assert discovered["__param_cf_app_instance_index"] == index
            assert discovered["__address__"] == app.route_host


def test_scrape_url_carries_the_instance_as_query_parameters(demo):
    for target in targets_of(demo, REPLICAS[0]):
        instance = target["labels"]["instance"]
        guid, index = instance.rsplit(":", 1)
        url = target["scrapeUrl"]
        assert f"cf_app_guid={guid}" in url
        assert f"cf_app_instance={guid}%3A{index}" in url
        assert f"cf_app_instance_index={index}" in url


def test_every_instance_reports_its_own_series(demo):
    """Each instance's scrape reached that instance: its own counts, not its sibling's."""
    for instance in demo.instances:
        query = f'count(up{{instance="{instance.label}"}} == 1)'
        for replica in REPLICAS:
            assert demo.prometheus[replica].query(query)[0]["value"][1] == "1"


# -- the router and the proxy ----------------------------------------------------------------


def test_router_refuses_a_malformed_instance_header_with_400(demo):
    instance = demo.instances[0]
    for header in (
        "not-a-guid",
        f"{instance.app.guid}",
        f"{instance.app.guid}:x",
        f"{instance.app.guid}:0:1",
    ):
        reply = request(demo.router_port, "/", {"X-CF-APP-INSTANCE": header}, host=instance.app.route_host)
        assert reply.status == 400, header


def test_router_answers_404_for_an_instance_that_does_not_run(demo):
    app = demo.instances[0].app
    reply = request(demo.router_port, "/", {"X-CF-APP-INSTANCE": f"{app.guid}:99"}, host=app.route_host)
    assert reply.status == 404


def test_proxy_turns_query_parameters_into_bearer_token_and_instance_header(demo):
    instance = demo.instances[-1]
    guid = instance.app.guid
    url = (
        f"http://{instance.app.route_host}/metrics?cf_app_guid={guid}"
        f"&cf_app_instance={guid}%3A{instance.index}&cf_app_instance_index={instance.index}"
    )
    assert request(demo.proxy_port, url).status == 200
    without_token = f"http://{instance.app.route_host}/metrics?cf_app_instance={guid}%3A{instance.index}"
    assert request(demo.proxy_port, without_token).status == 401


# -- a wrong GUID in a target file -------------------------------------------------------------


def test_target_with_a_wrong_guid_is_down_and_the_app_answered_403(demo):
    victim = demo.instances[0]
    groups = demo.targets.render(victim.app.facts())
    wrong = groups[victim.index]
    # The route and instance are right; the token the proxy will send is not.
    wrong["labels"]["__param_cf_app_guid"] = WRONG_GUID
    wrong["labels"]["job"] = f"{victim.app.name}-wrong-guid"
    path = demo.targets.active_dir / f"{WRONG_GUID}.json"
    write_atomically(path, json.dumps([wrong], indent=2) + "\n")
    forbidden = f'http_server_requests_total{{job="{victim.app.name}",instance="{victim.label}",code="403"}}'
    try:
        for replica in REPLICAS:
            wait_until(
                lambda r=replica: wrong_guid_target(demo, r, wrong["labels"]["job"]).get("health") == "down",
                CHANGE_TIMEOUT,
                f"the wrong-GUID target to be down on {replica}",
            )
            target = wrong_guid_target(demo, replica, wrong["labels"]["job"])
            assert "403" in target["lastError"], target["lastError"]
        # The 403 came from the app itself: it counted the rejected scrapes.
        wait_until(
            lambda: demo.prometheus[REPLICAS[0]].query(f"sum({forbidden}) > 0") != [],
            CHANGE_TIMEOUT,
            "the app to report the scrapes it answered with 403",
        )
    finally:
        path.unlink()
    demo.wait_for_targets(demo.expected_targets(), CHANGE_TIMEOUT)


def wrong_guid_target(demo: Demo, replica: str, job: str) -> dict:
    return next((t for t in targets_of(demo, replica) if t["labels"]["job"] == job), {})


def write_atomically(path: Path, text: str) -> None:
    """As a broker would: Prometheus never reads a half-written file."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


# -- the request metrics are the same in every language ----------------------------------------


def test_request_metrics_of_every_app_have_identical_family_and_label_names(demo):
    api = demo.prometheus[REPLICAS[0]]
    seen = {}
    for app in demo.apps:
        series = api.series(f'{{__name__=~"http_server_.+",job="{app.name}"}}')
        labels: dict[str, set[str]] = {}
        for s in series:
            labels.setdefault(s["__name__"], set()).update(set(s) - {"__name__"} - TARGET_LABELS)
        seen[app.name] = labels
    web_apps = [a.name for a in demo.apps if not a.exporter]
    for name, labels in seen.items():
        expected = dict(REQUEST_FAMILIES)
        if name in web_apps:
            # Every web example has a route that raises.
            expected.update(EXCEPTION_FAMILY)
        assert labels == expected, name


def test_request_metrics_use_route_templates_and_no_endpoint(demo):
    api = demo.prometheus[REPLICAS[0]]
    for app in demo.apps:
        if app.exporter:
            continue
        paths = {s["path"] for s in api.series(f'http_server_requests_total{{job="{app.name}"}}')}
        assert "No endpoint" in paths, app.name
        assert "/metrics" in paths, app.name
        assert not any("42" in p or "/7" in p for p in paths), (app.name, paths)


# -- Prometheus 3.16: native histograms, exemplars, UTF-8 names, multi-process aggregates ----------
#
# prometheus-3 scrapes protobuf (`scrape_native_histograms: true`): native histograms.
# Prometheus 3.16 sends no `escaping` with protobuf, so UTF-8 names reach it escaped; and
# its protobuf parser ingests the exemplars of only the first native-histogram series of a
# family that has any (`exemplarPos` is not reset between series in
# model/textparse/protobufparse.go: a later series gets only those past the count the
# earlier ones had).
# prometheus-3om negotiates OpenMetrics with `escaping=allow-utf-8`: it stores UTF-8 names
# as declared and every series' exemplars (the histogram's on its classic buckets).


def instance_of(demo: Demo, kind: str) -> Instance:
    """The first instance of the example app of `kind`; the demo must run it."""
    instance = next((i for i in demo.instances if i.app.kind == kind and i.index == 0), None)
    assert instance is not None, f"the {kind} example is not in the demo: {[a.name for a in demo.missing]}"
    return instance


def run_job(demo: Demo, instance: Instance, queue: str, seconds: float, trace: Trace | None = None) -> Job:
    headers = {"traceparent": trace.traceparent} if trace else {}
    return parse_job(demo.via_router(instance, job_path(queue, seconds), headers))


def spread_jobs(demo: Demo, instance: Instance, queue_of, trace_of, count: int, seconds: float) -> list[Job]:
    """`count` jobs at once on `instance`, the i-th in `queue_of(i)` traced by `trace_of(i)`;
    fails unless every worker of the instance ran some, so a per-worker view cannot pass."""
    jobs = run_concurrently(
        lambda i: demo.via_router(
            instance, job_path(queue_of(i), seconds), {"traceparent": trace_of(i).traceparent}
        ),
        count,
    )
    workers = KINDS[instance.app.kind].workers
    assert len({job.pid for job in jobs}) == workers, f"jobs ran on {sorted({j.pid for j in jobs})}, not {workers} workers"
    return jobs


def concurrency(kind: str) -> int:
    """Jobs to send at once so that every worker must take some: one more per worker than
    all of them can serve together."""
    return KINDS[kind].workers * (KINDS[kind].threads + 1)


def series(instance: Instance, queue: str) -> str:
    return f'instance="{instance.label}",queue="{queue}"'


def wait_for_scrape_after(demo: Demo, replica: str, instance: Instance, moment: datetime) -> None:
    """Until `replica` scraped `instance` in a scrape that started after `moment`."""

    def scraped() -> bool:
        target = next(
            (t for t in demo.prometheus[replica].active_targets() if t["labels"].get("instance") == instance.label),
            {},
        )
        started = prometheus_time(target.get("lastScrape", ""))
        return started is not None and started > moment

    wait_until(scraped, CHANGE_TIMEOUT, f"a scrape of {instance.label} by prometheus-{replica}")


def settled(demo: Demo, replica: str, query: str, expected: float) -> float | None:
    """The value of `query`'s single result once it equals `expected`, or the last value seen
    when it does not within CHANGE_TIMEOUT (the scrape is done; only its commit may lag)."""
    seen: list[float | None] = [None]

    def matches() -> bool:
        result = demo.prometheus[replica].query(query)
        seen[0] = float(result[0]["value"][1]) if len(result) == 1 else None
        return seen[0] is not None and math.isclose(seen[0], expected, rel_tol=1e-9)

    try:
        wait_until(matches, CHANGE_TIMEOUT, f"{query} = {expected} on prometheus-{replica}")
    except TimeoutError:
        pass
    return seen[0]


def after_scrapes(demo: Demo, instance: Instance, replicas=(PROMETHEUS3, REPLICAS[0])) -> None:
    moment = datetime.now(timezone.utc)
    for replica in replicas:
        wait_for_scrape_after(demo, replica, instance, moment)


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_histogram_quantile_over_the_native_histogram_of_every_example(demo, kind):
    """The median Prometheus 3 computes from the native buckets lies in the schema-5 bucket
    of the median job; Prometheus 2.42's, from the classic buckets, in that classic bucket."""
    instance = instance_of(demo, kind)
    queue = f"median-{kind}"
    jobs = [run_job(demo, instance, queue, seconds) for seconds in (0.05, 0.1, 0.2, 0.3, 0.4)]
    took = [job.seconds for job in jobs]
    after_scrapes(demo, instance)
    selector = f"{JOB_HISTOGRAM}{{{series(instance, queue)}}}"
    assert settled(demo, PROMETHEUS3, f"histogram_count({selector})", len(jobs)) == len(jobs)

    median = demo.prometheus[PROMETHEUS3].query(f"histogram_quantile(0.5, {selector})")
    lower, upper = quantile_bucket(took, 0.5, native_bucket)
    assert lower <= float(median[0]["value"][1]) <= upper, (median, took, (lower, upper))

    assert settled(demo, REPLICAS[0], f"{JOB_HISTOGRAM}_count{{{series(instance, queue)}}}", len(jobs)) == len(jobs)
    classic = f"histogram_quantile(0.5, sum by (le) ({JOB_HISTOGRAM}_bucket{{{series(instance, queue)}}}))"
    value = float(demo.prometheus[REPLICAS[0]].query(classic)[0]["value"][1])
    lower, upper = quantile_bucket(took, 0.5, classic_bucket)
    assert lower <= value <= upper, (value, took, (lower, upper))


def exemplars_by_trace(demo: Demo, replica: str, selector: str) -> dict[str, dict]:
    """A Prometheus 3's exemplars for `selector`, by trace id."""
    return {
        exemplar["labels"].get("trace_id"): exemplar
        for found in demo.exemplars(replica, selector)
        for exemplar in found["exemplars"]
    }


def wait_for_exemplars(demo: Demo, replica: str, selector: str, traces: list[Trace]) -> dict[str, dict]:
    wanted = {trace.trace_id for trace in traces}
    found: dict[str, dict] = {}

    def stored() -> bool:
        found.update(exemplars_by_trace(demo, replica, selector))
        return wanted <= set(found)

    try:
        wait_until(stored, CHANGE_TIMEOUT, f"exemplars of {selector}")
    except TimeoutError:
        raise AssertionError(
            f"prometheus-{replica} {selector}: traces {sorted(wanted - set(found))} missing; stored {sorted(found)}"
        ) from None
    return found


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_prometheus_3_stores_the_exemplars_every_example_recorded(demo, kind):
    """The trace sent in `traceparent` is the exemplar of the histogram (with the job's
    time as value) and of the UTF-8 counter (1), with its span id. Every worker runs a job
    of the same trace, so whichever answers a scrape has it."""
    instance = instance_of(demo, kind)
    queue, trace = f"exemplar-{kind}", Trace.new()
    jobs = spread_jobs(demo, instance, lambda i: queue, lambda i: trace, concurrency(kind), 0.3)
    for replica, selector, values in (
        (PROMETHEUS3_OPENMETRICS, f"{JOB_HISTOGRAM}_bucket{{{series(instance, queue)}}}", {j.seconds for j in jobs}),
        (PROMETHEUS3_OPENMETRICS, f'{{"{JOBS_COUNTER}",{series(instance, queue)}}}', {1.0}),
    ):
        exemplar = wait_for_exemplars(demo, replica, selector, [trace])[trace.trace_id]
        assert exemplar["labels"] == {"trace_id": trace.trace_id, "span_id": trace.span_id}, selector
        assert any(math.isclose(float(exemplar["value"]), v, rel_tol=1e-9) for v in values), (exemplar, values)


#: Every example app: its request metrics take a request's sampled `traceparent` as
#: exemplar with no code in the app, on the route each of them answers.
TRACED_ROUTES = {"flask": "/", "sinatra": "/", "dropwizard": "/", "exporter": "/healthz"}


@pytest.mark.parametrize("kind", sorted(TRACED_ROUTES))
def test_prometheus_3_stores_the_trace_of_a_request_as_exemplar_of_the_request_metrics(demo, kind):
    """A request sent with a sampled `traceparent` (one per worker at least, so whichever
    answers the scrape holds it) is the exemplar of its `http_server_request_duration_seconds`
    bucket, with the request's time as value, and of its `http_server_requests_total` (1),
    as Prometheus 3.16 stores them from OpenMetrics; and the request duration, which keeps
    native buckets beside its classic ones, reaches prometheus-3 (protobuf) as a native
    histogram carrying the trace.

    prometheus-3 ingests the native exemplars of only the first series of a family that
    has any (see above); the traced route's series is that one for every example: the
    multi-process scrapes sort series by their labels (`/` first), and the others keep
    the order series were made in, where the traced route came before every traced job."""
    instance = instance_of(demo, kind)
    trace = Trace.new()
    for _ in range(KINDS[kind].workers * 4):
        reply = demo.via_router(instance, TRACED_ROUTES[kind], {"traceparent": trace.traceparent})
        assert reply.status == 200, reply.text[:200]
    untraced = Trace.new()
    demo.via_router(instance, TRACED_ROUTES[kind], {"traceparent": untraced.traceparent[:-2] + "00"})
    instance_label = f'instance="{instance.label}"'
    route_series = f'{instance_label},path="{TRACED_ROUTES[kind]}"'
    for replica, selector, value in (
        (PROMETHEUS3_OPENMETRICS, f"http_server_request_duration_seconds_bucket{{{instance_label}}}", None),
        (PROMETHEUS3, f"http_server_request_duration_seconds{{{route_series}}}", None),
        (PROMETHEUS3_OPENMETRICS, f"http_server_requests_total{{{instance_label}}}", 1.0),
    ):
        found = wait_for_exemplars(demo, replica, selector, [trace])
        exemplar = found[trace.trace_id]
        assert exemplar["labels"] == {"trace_id": trace.trace_id, "span_id": trace.span_id}, (replica, selector)
        if value is None:
            assert 0.0 < float(exemplar["value"]) < 5.0, (replica, selector, exemplar)
        else:
            assert float(exemplar["value"]) == value, (replica, selector, exemplar)
        assert untraced.trace_id not in found, (replica, selector)
    # prometheus-3 stored the duration as a native histogram only: no classic buckets.
    native = demo.prometheus[PROMETHEUS3].query(f"histogram_count(http_server_request_duration_seconds{{{route_series}}})")
    assert native and float(native[0]["value"][1]) >= KINDS[kind].workers * 4, native
    assert demo.prometheus[PROMETHEUS3].query(f"http_server_request_duration_seconds_bucket{{{instance_label}}}") == []


@pytest.mark.parametrize("kind", MULTI_PROCESS_KINDS)
def test_one_scrape_holds_the_exemplars_of_every_worker(demo, kind):
    """With `exemplars_across_processes`, the worker answering a scrape shows the exemplars
    the other workers recorded: one trace per worker's job, all in one scrape, and all
    stored by Prometheus 3 (prometheus-3om: see above for protobuf)."""
    instance = instance_of(demo, kind)
    count = concurrency(kind)
    traces = [Trace.new() for _ in range(count)]
    spread_jobs(demo, instance, lambda i: f"across-{kind}-{i}", lambda i: traces[i], count, 0.3)
    body = scrape_via_proxy(demo, instance, "application/openmetrics-text;version=1.0.0").text
    missing = [trace.trace_id for trace in traces if f'trace_id="{trace.trace_id}"' not in body]
    assert missing == [], f"{len(missing)} of {count} workers' exemplars missing from one scrape"
    selector = f'{JOB_HISTOGRAM}_bucket{{instance="{instance.label}",queue=~"across-{kind}-.*"}}'
    wait_for_exemplars(demo, PROMETHEUS3_OPENMETRICS, selector, traces)


def scrape_via_proxy(demo: Demo, instance: Instance, accept: str):
    guid = instance.app.guid
    url = (
        f"http://{instance.app.route_host}/metrics?cf_app_guid={guid}"
        f"&cf_app_instance={guid}%3A{instance.index}&cf_app_instance_index={instance.index}"
    )
    reply = request(demo.proxy_port, url, {"Accept": accept})
    assert reply.status == 200, reply.text[:200]
    return reply


@pytest.mark.parametrize("kind", JOB_KINDS)
def test_the_utf8_metric_name_is_queryable_on_prometheus_3_and_escaped_on_2(demo, kind):
    instance = instance_of(demo, kind)
    queue = f"utf8-{kind}"
    run_job(demo, instance, queue, 0.0)
    after_scrapes(demo, instance, (PROMETHEUS3_OPENMETRICS, *REPLICAS))
    assert settled(demo, PROMETHEUS3_OPENMETRICS, f'{{"{JOBS_COUNTER}",{series(instance, queue)}}}', 1) == 1
    # Stored as declared, not escaped.
    assert demo.prometheus[PROMETHEUS3_OPENMETRICS].query(f"{JOBS_COUNTER_ESCAPED}{{{series(instance, queue)}}}") == []
    for replica in REPLICAS:
        assert settled(demo, replica, f"{JOBS_COUNTER_ESCAPED}{{{series(instance, queue)}}}", 1) == 1


@pytest.mark.parametrize("kind", MULTI_PROCESS_KINDS)
def test_prometheus_stores_the_aggregate_of_every_worker(demo, kind):
    """N jobs spread over the workers of one instance: Prometheus 3 stores N as the native
    histogram's count, with the sum of their times, and in the UTF-8 counter; 2.42 stores N
    in the escaped counter and the classic histogram's count."""
    instance = instance_of(demo, kind)
    queue = f"aggregate-{kind}"
    count = 2 * concurrency(kind)
    jobs = spread_jobs(demo, instance, lambda i: queue, lambda i: Trace.new(), count, 0.1)
    after_scrapes(demo, instance, (PROMETHEUS3, PROMETHEUS3_OPENMETRICS, REPLICAS[0]))
    labels = series(instance, queue)
    assert settled(demo, PROMETHEUS3_OPENMETRICS, f'{{"{JOBS_COUNTER}",{labels}}}', count) == count
    assert settled(demo, PROMETHEUS3, f"histogram_count({JOB_HISTOGRAM}{{{labels}}})", count) == count
    total = sum(job.seconds for job in jobs)
    stored = settled(demo, PROMETHEUS3, f"histogram_sum({JOB_HISTOGRAM}{{{labels}}})", total)
    assert stored is not None and math.isclose(stored, total, rel_tol=1e-9), (stored, total)
    assert settled(demo, REPLICAS[0], f"{JOBS_COUNTER_ESCAPED}{{{labels}}}", count) == count
    assert settled(demo, REPLICAS[0], f"{JOB_HISTOGRAM}_count{{{labels}}}", count) == count


# -- bind, unbind, stop, start: through the broker and the target updater ----------------------


def test_unbinding_an_app_removes_its_file_and_drops_its_targets(demo):
    app = demo.apps[0]
    others = [a for a in demo.apps if a != app]
    assert demo.service.cf.unbind_service(app) == 200
    assert not (demo.targets.active_dir / f"{app.guid}.json").exists()
    assert not (demo.targets.inactive_dir / f"{app.guid}.json").exists()
    demo.wait_for_targets(demo.expected_targets(others), CHANGE_TIMEOUT)

    demo.service.cf.bind_service(app)
    assert (demo.targets.active_dir / f"{app.guid}.json").exists()
    demo.wait_for_targets(demo.expected_targets(), CHANGE_TIMEOUT)


def test_stopping_an_app_moves_its_file_to_inactive_and_starting_brings_it_back(demo):
    app = demo.apps[0]
    others = [a for a in demo.apps if a != app]
    active = demo.targets.active_dir / f"{app.guid}.json"
    inactive = demo.targets.inactive_dir / f"{app.guid}.json"
    # A move writes the new file before it removes the old one (a writer killed between
    # the two loses nothing), so the test waits for both halves.
    demo.service.cf.change(app, {"action": "stop"})
    wait_until(lambda: inactive.exists() and not active.exists(), CHANGE_TIMEOUT,
               "the updater to move the stopped app's file to inactive/")
    demo.wait_for_targets(demo.expected_targets(others), CHANGE_TIMEOUT)

    demo.service.cf.change(app, {"action": "start"})
    wait_until(lambda: active.exists() and not inactive.exists(), CHANGE_TIMEOUT,
               "the updater to bring the started app's file back")
    demo.wait_for_targets(demo.expected_targets(), CHANGE_TIMEOUT)


def test_scale_rename_and_delete_without_unbind_reach_every_prometheus(demo):
    steps = tour(demo, log=lambda line: None)
    assert len(steps) == 9
    over = [(what, round(seconds, 1), budget) for what, seconds, budget in steps if seconds > budget]
    assert not over, f"steps over their budget (updater period, sync, discovery, scrape): {over}"
    for replica in REPLICAS:
        assert {t["labels"]["job"] for t in targets_of(demo, replica)} == {a.name for a in demo.apps}


# -- the exporter's alert -------------------------------------------------------------------------


def test_stale_upload_alert_fires_on_both_servers_and_resolves_when_a_file_arrives(demo):
    exporter = KINDS["exporter"]
    assert any(app.kind == "exporter" for app in demo.apps), "the upload exporter is not in the tree"
    assert exporter.alert_rules(demo.ctx) is not None, "the upload exporter ships no alerts.yml"

    def firing(replica: str) -> set[str]:
        return {
            a["labels"].get("prefix", "")
            for a in demo.prometheus[replica].alerts()
            if a["state"] == "firing" and a["labels"]["alertname"] == "UploadMissing"
        }

    for replica in REPLICAS:
        wait_until(
            lambda r=replica: firing(r) == {exporter.STALE_PREFIX},
            ALERT_TIMEOUT,
            f"UploadMissing to fire for {exporter.STALE_PREFIX} on {replica}",
        )

    for uploads in demo.run_dir.glob("uploads/*"):
        (uploads / exporter.STALE_PREFIX / "today.csv").write_text("id,amount\n2,200\n")
    for replica in REPLICAS:
        wait_until(
            lambda r=replica: firing(r) == set(), ALERT_TIMEOUT, f"UploadMissing to resolve on {replica}"
        )


# -- the token in no log --------------------------------------------------------------------------


def test_no_log_the_stack_wrote_holds_an_app_guid(demo):
    """CONTRACT section 2: the GUID is the bearer token. By now every target was scraped
    many times through the proxy, with the GUID in the query, and the proxy was called
    directly with it; neither nginx nor any app may have logged it."""
    # One more scrape through the proxy, in case the tests above changed which did.
    instance = demo.instances[0]
    guid = instance.app.guid
    url = f"http://{instance.app.route_host}/metrics?cf_app_guid={guid}&cf_app_instance={guid}%3A{instance.index}"
    assert request(demo.proxy_port, url).status == 200
    logs = [path for path in demo.run_dir.rglob("*.log") if path.is_file()]
    assert {"proxy-access.log", "router-access.log"} <= {path.name for path in logs}
    assert any(path.parent.name == "logs" for path in logs), logs
    leaks = [
        f"{path.relative_to(demo.run_dir)}:{number}: {line.strip()[:200]}"
        for path in logs
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(app.guid in line for app in demo.apps)
    ]
    assert leaks == [], "app GUIDs (bearer tokens) in logs:\n" + "\n".join(leaks[:20])


# -- nothing left behind -------------------------------------------------------------------------


def test_everything_started_is_stopped_when_the_caller_fails(tmp_path):
    """A failure inside the supervisor's block still stops every group, workers included."""
    config = tmp_path / "nginx.conf"
    port = 0
    with pytest.raises(RuntimeError, match="a failing step"):
        with Supervisor(tmp_path / "logs") as supervisor:
            port = free_ports(1)[0]
            config.write_text(minimal_nginx(tmp_path, port))
            nginx = supervisor.start("nginx", nginx_argv(config, tmp_path / "error.log"))
            sleeper = supervisor.start("sleeper", ["sh", "-c", "sleep 300 & sleep 300 & wait"])
            supervisor.wait_ready(nginx, lambda: answers(port, "/", status=404), 30)
            wait_until(lambda: len(group_members(sleeper.pgid)) == 3, 30, "the shell and its two sleeps")
            groups = [nginx.pgid, sleeper.pgid]
            assert len(group_members(nginx.pgid)) >= 2  # master and worker
            raise RuntimeError("a failing step")
    assert [pid for pgid in groups for pid in group_members(pgid)] == []
    assert not answers(port, "/", status=404)


def test_a_process_that_ignores_sigterm_is_killed(tmp_path):
    with Supervisor(tmp_path / "logs", grace_seconds=1.0) as supervisor:
        stubborn = supervisor.start("stubborn", ["sh", "-c", "trap '' TERM; sleep 300 & wait"])
        wait_until(lambda: len(group_members(stubborn.pgid)) == 2, 30, "the shell and its sleep")
        started = time.monotonic()
        supervisor.stop(stubborn)
    assert group_members(stubborn.pgid) == []
    assert time.monotonic() - started < 10
    assert stubborn.popen.returncode == -signal.SIGKILL


def minimal_nginx(directory: Path, port: int) -> str:
    return f"""
worker_processes 1;
pid {directory}/nginx.pid;
events {{ worker_connections 16; }}
http {{
    access_log off;
    client_body_temp_path {directory}/body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    server {{ listen 127.0.0.1:{port}; return 404; }}
}}
"""

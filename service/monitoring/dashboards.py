#!/usr/bin/env python3
"""Generates the Grafana dashboards of service/monitoring/dashboards/ with Grafana's own
builder library (grafana-foundation-sdk, installed into .build/monitoring/venv by
`make dashboards`).

    make dashboards                         # writes dashboards/tenant.json and service.json
    .build/monitoring/venv/bin/python service/monitoring/dashboards.py --check
                                            # fails if the committed JSON is not what this writes

- `tenant.json`: one tenant app (variables `job` and `instance`): request rate, requests by
  status, 5xx by route, exceptions by class, latency percentiles (from the classic buckets,
  or the native histogram where a Prometheus 3 stores one), scrape refusals, series refused
  by the series limit, scrape health per instance.
- `service.json`: the Prometheus service: tenant targets per Prometheus, the target-file
  syncs, the broker and its target updater (time since success, bound apps, requests,
  errors), alerts firing, Alertmanager notifications and cluster members, Prometheus' alert
  delivery and rule evaluation failures.

Both take the Prometheus data source as the variable `datasource`. Every query is run
against the demo's Prometheus 2.42 and 3.16 by demo/tests/test_alerting.py.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable, QueryVariable
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DataSourceRef,
    GridPos,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

OUT_DIR = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
#: What a tenant panel selects: the chosen app and instances.
APP = 'job="$job", instance=~"$instance"'
RATE = "[$__rate_interval]"
PANEL_WIDTH, PANEL_HEIGHT = 12, 8


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class PanelSpec:
    title: str
    description: str
    unit: str
    queries: tuple[Query, ...]


def quantile(q: float, by: tuple[str, ...]) -> str:
    """The q-quantile of the chosen app's request durations: classic buckets, or the native
    histogram.

    A server stores one or the other for a family (Prometheus 2 the buckets, Prometheus 3
    the native histogram when it scrapes one), so `or` shows whichever there is."""
    family = "http_server_request_duration_seconds"
    classic_by = ", ".join((*by, "le"))
    native_sum = f"sum by ({', '.join(by)})" if by else "sum"
    classic = f"histogram_quantile({q}, sum by ({classic_by}) (rate({family}_bucket{{{APP}}}{RATE})))"
    native = f"histogram_quantile({q}, {native_sum} (rate({family}{{{APP}}}{RATE})))"
    return f"{classic} or {native}"


TENANT_PANELS = (
    PanelSpec(
        "Requests per second, by instance",
        "Every request the app handled, scrapes of its metrics included.",
        "reqps",
        (Query(f"sum by (instance) (rate(http_server_requests_total{{{APP}}}{RATE}))", "{{instance}}"),),
    ),
    PanelSpec(
        "Requests per second, by status",
        "The status codes the app answered with.",
        "reqps",
        (Query(f"sum by (code) (rate(http_server_requests_total{{{APP}}}{RATE}))", "{{code}}"),),
    ),
    PanelSpec(
        "Server errors (5xx), by route and status",
        "Route templates as the framework names them; `No endpoint` for unmatched paths.",
        "reqps",
        (
            Query(
                f'sum by (path, code) (rate(http_server_requests_total{{{APP}, code=~"5.."}}{RATE}))',
                "{{code}} {{path}}",
            ),
        ),
    ),
    PanelSpec(
        "Unhandled exceptions, by class",
        "Each is also counted as a 500 request.",
        "ops",
        (Query(f"sum by (error) (rate(http_server_exceptions_total{{{APP}}}{RATE}))", "{{error}}"),),
    ),
    PanelSpec(
        "Request time percentiles",
        "From the classic buckets, or the native histogram on a Prometheus 3 that stores one.",
        "s",
        tuple(Query(quantile(q, ()), f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)),
    ),
    PanelSpec(
        "95th percentile request time, by instance",
        "From the classic buckets, or the native histogram on a Prometheus 3 that stores one.",
        "s",
        (Query(quantile(0.95, ("instance",)), "{{instance}}"),),
    ),
    PanelSpec(
        "Scrapes refused (401/403), by instance",
        "401: the scrape did not come through the service's proxy. 403: the target file's GUID is not the app's.",
        "reqps",
        (
            Query(
                f'sum by (instance, code) (rate(http_server_requests_total{{{APP}, path=~".*metrics", code=~"401|403"}}{RATE}))',
                "{{code}} {{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Label sets refused by the series limit, by family",
        "A family with an unbounded label (ids, raw paths) reaching its limit (2,000 by default).",
        "ops",
        (
            Query(
                f"sum by (instance, family) (rate(gds_metrics_series_refused_total{{{APP}}}{RATE}))",
                "{{family}} {{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Scraped (1) or not (0), by instance",
        "Whether the service's Prometheus could scrape each instance.",
        "none",
        (Query(f"up{{{APP}}}", "{{instance}}"),),
    ),
)

SERVICE_PANELS = (
    PanelSpec(
        "Tenant targets discovered, by Prometheus",
        "Targets each Prometheus read from its target files; zero pages (PrometheusNoFileDiscoveryTargets).",
        "none",
        (
            Query(
                'sum by (instance) (prometheus_sd_discovered_targets{job="prometheus", config="paas-tenant-apps"})',
                "{{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Tenant targets scraped, by Prometheus",
        "Targets in each Prometheus' tenant scrape pool after relabelling.",
        "none",
        (
            Query(
                'sum by (instance) (prometheus_target_scrape_pool_targets{job="prometheus", scrape_job="paas-tenant-apps"})',
                "{{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Seconds since each target-file sync succeeded",
        "Over 300 for a minute pages (TargetsSyncNotSucceeding).",
        "s",
        (Query('time() - targets_sync_last_success_timestamp_seconds{job="targets-sync"}', "{{instance}}"),),
    ),
    PanelSpec(
        "Target files and rejected objects, by sync",
        "Files in each sync's folder, and objects in S3 it refused to apply.",
        "none",
        (
            Query('targets_sync_files{job="targets-sync"}', "files {{instance}}"),
            Query('targets_sync_objects_rejected{job="targets-sync"}', "rejected {{instance}}"),
        ),
    ),
    PanelSpec(
        "Failed syncs per second",
        "Syncs that could not list S3 or write the folder.",
        "ops",
        (Query(f'sum by (instance) (rate(targets_sync_errors_total{{job="targets-sync"}}{RATE}))', "{{instance}}"),),
    ),
    PanelSpec(
        "Target updater: seconds since success, and run duration",
        "Since its last run that brought every target file up to date: over 900 for 5 minutes pages "
        "(BrokerUpdaterNotSucceeding). A run slower than its period means the Cloud Controller is slow.",
        "s",
        (
            Query('time() - gds_prometheus_updater_last_success_timestamp_seconds{job="updater"}', "since success {{instance}}"),
            Query('gds_prometheus_updater_run_duration_seconds{job="updater"}', "last run {{instance}}"),
        ),
    ),
    PanelSpec(
        "Bound apps, by state",
        "What the Cloud Controller said of every bound app in the updater's last successful run.",
        "none",
        (Query('sum by (state) (gds_prometheus_updater_apps{job="updater"})', "{{state}}"),),
    ),
    PanelSpec(
        "Broker requests per second, by operation and status",
        "Open Service Broker calls from the platform; any 5xx is a tenant's failed command (BrokerServerErrors).",
        "ops",
        (
            Query(
                f'sum by (operation, code) (rate(gds_prometheus_broker_requests_total{{job="broker"}}{RATE}))',
                "{{operation}} {{code}}",
            ),
        ),
    ),
    PanelSpec(
        "Broker and updater errors per second",
        "Cloud Controller or UAA and target store failures of the broker, and the updater's failed runs.",
        "ops",
        (
            Query(
                f'sum by (instance) (rate(gds_prometheus_broker_cloud_controller_errors_total{{job="broker"}}{RATE}))',
                "broker Cloud Controller {{instance}}",
            ),
            Query(
                f'sum by (instance) (rate(gds_prometheus_broker_store_errors_total{{job="broker"}}{RATE}))',
                "broker store {{instance}}",
            ),
            Query(
                f'sum by (instance) (rate(gds_prometheus_updater_failed_runs_total{{job="updater"}}{RATE}))',
                "updater failed runs {{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Alerts firing, by name and severity",
        "As each Prometheus evaluates them (ALERTS).",
        "none",
        (Query('sum by (alertname, severity) (ALERTS{alertstate="firing"})', "{{alertname}} ({{severity}})"),),
    ),
    PanelSpec(
        "Notifications sent and failed, by Alertmanager",
        "The cluster sends one notification per group, from one member.",
        "ops",
        (
            Query(
                f'sum by (instance) (rate(alertmanager_notifications_total{{job="alertmanager"}}{RATE}))',
                "sent {{instance}}",
            ),
            Query(
                f'sum by (instance) (rate(alertmanager_notifications_failed_total{{job="alertmanager"}}{RATE}))',
                "failed {{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Cluster members each Alertmanager sees",
        "Fewer than the Alertmanagers running means a member is cut off (duplicate notifications).",
        "none",
        (Query('alertmanager_cluster_members{job="alertmanager"}', "{{instance}}"),),
    ),
    PanelSpec(
        "Alerts sent to Alertmanager, and errors, by Prometheus",
        "Every Prometheus sends every alert to every Alertmanager.",
        "ops",
        (
            Query(
                f'sum by (instance) (rate(prometheus_notifications_sent_total{{job="prometheus"}}{RATE}))',
                "sent {{instance}}",
            ),
            Query(
                f'sum by (instance) (rate(prometheus_notifications_errors_total{{job="prometheus"}}{RATE}))',
                "errors {{instance}}",
            ),
        ),
    ),
    PanelSpec(
        "Rule evaluation failures, by Prometheus",
        "Any is a rule that cannot fire (PrometheusRuleEvaluationFailures).",
        "ops",
        (
            Query(
                f'sum by (instance) (rate(prometheus_rule_evaluation_failures_total{{job="prometheus"}}{RATE}))',
                "{{instance}}",
            ),
        ),
    ),
)


def timeseries(spec: PanelSpec, position: int) -> Timeseries:
    panel = (
        Timeseries()
        .title(spec.title)
        .description(spec.description)
        .unit(spec.unit)
        .datasource(DATASOURCE)
        .grid_pos(
            GridPos(
                h=PANEL_HEIGHT,
                w=PANEL_WIDTH,
                x=(position % 2) * PANEL_WIDTH,
                y=(position // 2) * PANEL_HEIGHT,
            )
        )
    )
    for index, query in enumerate(spec.queries):
        panel = panel.with_target(
            Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
        )
    return panel


def datasource_variable() -> DatasourceVariable:
    return DatasourceVariable("datasource").label("Prometheus").type("prometheus")


def label_variable(name: str, label: str, query: str, include_all: bool) -> QueryVariable:
    variable = (
        QueryVariable(name)
        .label(label)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    if include_all:
        variable = variable.multi(True).include_all(True).all_value(".*")
        variable = variable.current(VariableOption(selected=True, text="All", value="$__all"))
    return variable


def tenant_variables() -> tuple[QueryVariable, ...]:
    """The app (`job`) and its instances, from the request metrics themselves. Only tenant
    targets carry `org`: the service's own jobs (broker, updater, syncs) record request
    metrics too, and are no app to pick."""
    return (
        label_variable("job", "App", 'label_values(http_server_requests_total{org!=""}, job)', include_all=False),
        label_variable(
            "instance", "Instance", 'label_values(http_server_requests_total{job="$job"}, instance)', include_all=True
        ),
    )


def dashboard(
    uid: str, title: str, description: str, panels: tuple[PanelSpec, ...], variables: tuple[QueryVariable, ...] = ()
) -> Dashboard:
    built = (
        Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["gds-metrics"])
        .time("now-1h", "now")
        .refresh("1m")
        .with_variable(datasource_variable())
    )
    for variable in variables:
        built = built.with_variable(variable)
    for position, spec in enumerate(panels):
        built = built.with_panel(timeseries(spec, position))
    return built


DASHBOARDS = {
    "tenant.json": dashboard(
        "gds-metrics-tenant-app",
        "Tenant app: requests (gds-metrics)",
        "The default request metrics of one app instrumented with gds-metrics.",
        TENANT_PANELS,
        tenant_variables(),
    ),
    "service.json": dashboard(
        "gds-metrics-prometheus-service",
        "Prometheus service (gds-metrics)",
        "The shared Prometheus service: targets, syncs, alerts and notifications.",
        SERVICE_PANELS,
    ),
}


def render(builder: Dashboard) -> str:
    return JSONEncoder(sort_keys=True, indent=2).encode(builder.build()) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed JSON instead of writing")
    args = parser.parse_args()
    OUT_DIR.mkdir(exist_ok=True)
    stale = []
    for name, builder in DASHBOARDS.items():
        path = OUT_DIR / name
        text = render(builder)
        if not args.check:
            path.write_text(text)
            continue
        committed = path.read_text() if path.exists() else ""
        if committed != text:
            stale.append(name)
            sys.stderr.writelines(difflib.unified_diff(committed.splitlines(True), text.splitlines(True), str(path), "generated"))
    if stale:
        print(f"{', '.join(stale)} differ from what dashboards.py generates; run `make dashboards`", file=sys.stderr)
        return 1
    print(f"dashboards: {', '.join(DASHBOARDS)} {'match their generator' if args.check else 'written'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

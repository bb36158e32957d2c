"""The whole scrape path on loopback: tenant apps, router, forward proxy, three Prometheus.

`Demo` is used by `demo/run.py` (`make demo`), by the end-to-end test and by the load
script, so all three run exactly the same path:

    Prometheus a, b, 3 --(proxy_url)--> forward proxy --> router --> app instance
          |                          (query params ->   (X-CF-APP-INSTANCE
          |                           Bearer + header)   -> instance port)
          +-- file_sd_configs: <run>/prometheus-<r>-targets/*.json, copied from
          |   s3://targets/active by `gds-metrics-targets sync` (one per server); every
          |   app is bound through `gds-prometheus-broker`, which writes to s3://targets
          |   from the Cloud Controller stand-in, and its updater keeps the files true
          +-- alerts --> three meshed Alertmanagers --> webhook receivers, dead man's switch
          +-- scrapes itself, the other servers, the Alertmanagers, the syncs, the broker, the updater
              and the host's node exporter (monitoring.py)

Replicas `a` and `b` are Debian's Prometheus 2.42, which negotiates OpenMetrics or text
(UTF-8 names arrive escaped with underscores, histograms as classic buckets). Replicas `3`
and `3om` are Prometheus 3.16 (`make prometheus3`) with exemplar storage. `3` scrapes with
`scrape_native_histograms: true`: it negotiates protobuf and stores native histograms and
their exemplars. Prometheus 3.16 puts no `escaping` parameter on protobuf in its `Accept`,
so UTF-8 names arrive there escaped with underscores, as the negotiation spec says; `3om`
keeps Prometheus 3's default protocols, negotiates OpenMetrics with `escaping=allow-utf-8`
and stores UTF-8 names as declared. All of them read the same target files and scrape the
same apps.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import threading
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from apps import APPS, App, BuildContext, ensure_venv
from jobs import JOB_HISTOGRAM, JOBS_COUNTER, Trace, job_path
from kinds import KINDS
from processes import Process, StartupError, Supervisor, free_ports, group_members, wait_until
import monitoring
from monitoring import AlertmanagerCluster
from s3 import TARGETS_BUCKET, ObjectStore, sync_argv
from s3 import available as s3_available
from s3 import missing_message as s3_missing_message
from broker import ServiceSide, named_ports
from targets import TargetsCli
from web import PrometheusApi, answers, request

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"
BUILD = ROOT / ".build" / "demo"
BASE_PACKAGES = (
    "prometheus",
    "prometheus-alertmanager",
    "prometheus-node-exporter",
    "nginx",
    "python3-venv",
    "python3-yaml",
    "wrk",
)
#: Debian's Prometheus 2.42 servers, the two replicas of the shared service.
REPLICAS = ("a", "b")
#: Prometheus 3.16 beside them, from `make prometheus3`: scraping protobuf with native
#: histograms, and with its default protocols (OpenMetrics, UTF-8 names as declared).
PROMETHEUS3 = "3"
PROMETHEUS3_OPENMETRICS = "3om"
SERVERS = (*REPLICAS, PROMETHEUS3, PROMETHEUS3_OPENMETRICS)
PROMETHEUS3_DIR = Path(os.environ.get("PROMETHEUS3_DIR", ROOT / ".build" / "tools" / "prometheus3"))
INFRA_TIMEOUT = 60.0
TARGETS_UP_TIMEOUT = 90.0
TRAFFIC_PERIOD_SECONDS = 1.0


def fill(template: Path, out: Path, **values: str) -> Path:
    """Writes `template` with every `@KEY@` replaced; a key left over is a bug here."""
    text = template.read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise ValueError(f"{template}: no value for {leftover}")
    out.write_text(text)
    return out


@dataclass
class Instance:
    app: App
    index: int
    port: int
    process: Process | None = None

    @property
    def label(self) -> str:
        return f"{self.app.guid}:{self.index}"

    @property
    def upstream(self) -> str:
        return f"{self.app.name}_{self.index}"


class Demo:
    """Builds, starts and stops the scrape path; also the handle tests act through."""

    def __init__(
        self,
        name: str = "run",
        apps: Iterable[App] | None = None,
        scrape_interval: str = "3s",
        release: bool = False,
        background_traffic: bool = True,
        log: Callable[[str], None] = print,
    ):
        self.run_dir = BUILD / name
        self.scrape_interval = scrape_interval
        self.log = log
        self.ctx = BuildContext(build_dir=BUILD, run_dir=self.run_dir, release=release, log=log)
        wanted = list(APPS if apps is None else apps)
        self.apps = [app for app in wanted if KINDS[app.kind].available()]
        self.missing = [app for app in wanted if app not in self.apps]
        self.instances: list[Instance] = []
        #: Every Prometheus server by replica name: REPLICAS (2.42), then the 3.16 ones.
        self.prometheus: dict[str, PrometheusApi] = {}
        self.router_port = 0
        self.proxy_port = 0
        self.targets = TargetsCli(f"s3://{TARGETS_BUCKET}", self.run_dir / TARGETS_BUCKET, self.ctx)
        self.s3: ObjectStore | None = None
        #: The Cloud Controller stand-in, the broker and its updater (demo/broker.py).
        self.service = ServiceSide(self.run_dir, self.ctx)
        self.service_ports: list[int] = []
        self.alerting: AlertmanagerCluster | None = None
        #: Per replica: the folder its sync writes and Prometheus reads, and the sync's metrics port.
        self.sync_ports: dict[str, int] = {}
        #: The host's node exporter, scraped by every Prometheus (job `node`).
        self.node_exporter_port = 0
        self.supervisor: Supervisor | None = None
        self._lock = None
        # A round of requests every second while the demo runs, so request rates are live.
        self.background_traffic = background_traffic
        self._traffic_stop = threading.Event()
        self._traffic = threading.Thread(target=self._traffic_loop, name="traffic", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> "Demo":
        self._take_lock()
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)
        self.supervisor = Supervisor(self.run_dir / "logs")
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            self._release_lock()

    def stop(self) -> None:
        self._traffic_stop.set()
        if self._traffic.is_alive():
            self._traffic.join()
        if self.supervisor and self.supervisor.processes:
            self.log("stopping everything the demo started")
            self.supervisor.stop_all()

    def _take_lock(self) -> None:
        BUILD.mkdir(parents=True, exist_ok=True)
        self._lock = open(BUILD / f"{self.run_dir.name}.lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupError(
                f"another demo is running from {self.run_dir}; stop it (Ctrl-C) before starting this one"
            ) from None

    def _release_lock(self) -> None:
        if self._lock:
            self._lock.close()
            self._lock = None

    # -- install and build -----------------------------------------------------------------

    def install(self) -> None:
        if not s3_available():
            raise StartupError(s3_missing_message())
        if not prometheus3_binary().exists():
            raise StartupError(f"Prometheus 3.16 is not installed at {prometheus3_binary()}; run `make prometheus3`")
        packages = list(BASE_PACKAGES)
        for app in self.apps:
            packages += KINDS[app.kind].packages
        self.ctx.run([str(ROOT / "scripts" / "apt-install"), *sorted(set(packages))])

    def build(self) -> None:
        self.targets.build()
        self.service.build()
        for kind in sorted({app.kind for app in self.apps}):
            KINDS[kind].build(self.ctx)

    def prepare_tests(self) -> None:
        """pytest for the end-to-end test, in the demo's virtual environment."""
        python = ensure_venv(self.ctx)
        self.ctx.run([str(python), "-m", "pip", "install", "-q", "pytest>=7", "pyyaml>=6"])

    # -- start -----------------------------------------------------------------------------

    def start(self) -> None:
        """Everything up and every target scraped, or a StartupError saying what is not."""
        self._allocate_ports()
        self.s3.start(self.supervisor)
        self.start_apps()
        self.start_router_and_proxy()
        self.alerting.start(self.supervisor)
        self.start_prometheus()
        # Every app bound as `cf bind-service` binds it: through the broker.
        self.service.start(self.supervisor, self.apps, self.service_ports, self.s3.env())
        self.service.cf.create_service()
        for app in self.apps:
            self.service.cf.bind_service(app)
        self.send_traffic()
        if self.background_traffic:
            self._traffic.start()
        self.wait_for_targets(self.expected_targets())
        if self.background_traffic:
            self.wait_for_sample_query()
            self.wait_for_prometheus3_jobs()

    def _allocate_ports(self) -> None:
        count = sum(app.instances for app in self.apps)
        ports = free_ports(count + 2 + 2 * len(SERVERS) + 1 + monitoring.PORTS + 3 + 1)
        self.node_exporter_port, ports = ports[-1], ports[:-1]
        self.service_ports, ports = ports[-3:], ports[:-3]
        s3_port, alerting_ports = ports[-1], ports[-1 - monitoring.PORTS : -1]
        ports = ports[: -1 - monitoring.PORTS]
        self.s3 = ObjectStore(self.run_dir, s3_port)
        self.targets.env = self.s3.env()
        self.ctx.s3_env = self.s3.env()
        self.alerting = AlertmanagerCluster(self.run_dir, alerting_ports)
        self.sync_ports = dict(zip(SERVERS, ports[-len(SERVERS) :]))
        ports = ports[: -len(SERVERS)]
        self.router_port, self.proxy_port = ports[0], ports[1]
        self.prometheus = {
            replica: PrometheusApi(f"prometheus-{replica}", port)
            for replica, port in zip(SERVERS, ports[2 : 2 + len(SERVERS)])
        }
        app_ports = iter(ports[2 + len(SERVERS) :])
        self.instances = [
            Instance(app, index, next(app_ports)) for app in self.apps for index in range(app.instances)
        ]

    def start_apps(self) -> None:
        for instance in self.instances:
            self.start_instance(instance)
        for instance in self.instances:
            self.wait_for_instance(instance)

    def start_instance(self, instance: Instance) -> None:
        kind = KINDS[instance.app.kind]
        launch = kind.launch(self.ctx, instance.app, instance.index, instance.port)
        name = f"{instance.app.name}-{instance.index}"
        tmp = self.instance_tmp_dir(instance)
        tmp.mkdir(parents=True, exist_ok=True)
        self.log(f"starting {name} on 127.0.0.1:{instance.port}")
        env = {**launch.env, "TMPDIR": str(tmp)}
        instance.process = self.supervisor.start(name, launch.argv, env, launch.cwd)

    def instance_tmp_dir(self, instance: Instance) -> Path:
        """The instance's `TMPDIR`. Each instance has its own, as each has its own container
        on the PaaS: the multi-process stores of two instances must never meet."""
        return self.run_dir / "instances" / f"{instance.app.name}-{instance.index}" / "tmp"

    def wait_for_instance(self, instance: Instance) -> None:
        token = {"Authorization": f"Bearer {instance.app.guid}"}
        self.supervisor.wait_ready(
            instance.process,
            lambda: answers(instance.port, "/metrics", token),
            KINDS[instance.app.kind].start_timeout,
        )

    def stop_instance(self, instance: Instance) -> None:
        if instance.process:
            self.supervisor.stop(instance.process)
            instance.process = None

    def start_router_and_proxy(self) -> None:
        conf = self.run_dir / "nginx"
        conf.mkdir(exist_ok=True)
        for part in ("router", "proxy"):
            for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (self.run_dir / f"{part}-tmp" / sub).mkdir(parents=True, exist_ok=True)
        router = fill(
            DEMO / "nginx" / "router.conf.in",
            conf / "router.conf",
            RUN_DIR=str(self.run_dir),
            ROUTER_PORT=str(self.router_port),
            UPSTREAMS=self._router_upstreams(),
            INSTANCE_MAP=self._router_instance_map(),
            ROUTE_MAP=self._router_route_map(),
        )
        proxy = fill(
            DEMO / "nginx" / "proxy.conf.in",
            conf / "proxy.conf",
            RUN_DIR=str(self.run_dir),
            PROXY_PORT=str(self.proxy_port),
            ROUTER_PORT=str(self.router_port),
        )
        for name, config, port in (("router", router, self.router_port), ("proxy", proxy, self.proxy_port)):
            process = self.supervisor.start(name, nginx_argv(config, self.run_dir / f"{name}-error.log"))
            # Any answer from nginx itself will do: an unknown route is its own 404.
            self.supervisor.wait_ready(process, lambda p=port: answers(p, "/", status=404), INFRA_TIMEOUT)

    def _router_upstreams(self) -> str:
        blocks = []
        for instance in self.instances:
            blocks.append(f"    upstream {instance.upstream} {{ server 127.0.0.1:{instance.port}; }}")
        for app in self.apps:
            servers = " ".join(f"server 127.0.0.1:{i.port};" for i in self.instances if i.app == app)
            blocks.append(f"    upstream {app.name} {{ {servers} }}")
        return "\n".join(blocks)

    def _router_instance_map(self) -> str:
        return "\n".join(f'        "{i.label}" {i.upstream};' for i in self.instances)

    def _router_route_map(self) -> str:
        return "\n".join(f"        {app.route_host} {app.name};" for app in self.apps)

    def target_dir(self, replica: str) -> Path:
        """The folder `replica` reads target files from, written by its sync."""
        return self.run_dir / f"prometheus-{replica}-targets"

    def start_syncs(self) -> None:
        for replica in self.sync_ports:
            self.start_sync(replica)

    def start_sync(self, replica: str) -> None:
        """Starts `replica`'s sync and waits until it serves its metrics."""
        port = self.sync_ports[replica]
        argv = sync_argv(self.targets.binary, self.target_dir(replica), port)
        process = self.supervisor.start(f"sync-{replica}", argv, self.s3.env())
        self.supervisor.wait_ready(process, lambda: answers(port, "/metrics"), INFRA_TIMEOUT)

    def stop_sync(self, replica: str) -> None:
        """Stops `replica`'s sync (its Prometheus keeps the files it last wrote)."""
        self.supervisor.stop(next(p for p in self.supervisor.processes if p.name == f"sync-{replica}"))

    def sync_metrics(self, replica: str) -> dict[str, float]:
        """The sync's own metrics for `replica`, by name (none of them has labels)."""
        text = request(self.sync_ports[replica], "/metrics").text
        pairs = (line.split(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        return {name: float(value) for name, value in pairs if "{" not in name}

    def start_prometheus(self) -> None:
        self.start_syncs()
        monitoring.start_node_exporter(self.supervisor, self.node_exporter_port)
        rules = [KINDS[app.kind].alert_rules(self.ctx) for app in self.apps]
        rules += monitoring.rule_files(self.run_dir)
        rule_lines = "\n".join(f'  - "{path}"' for path in rules if path)
        # Prometheus starts before the broker and the updater: their targets come up with them.
        service_ports = named_ports(self.service_ports)
        self_scrape = monitoring.self_scrape_jobs(
            [api.port for api in self.prometheus.values()],
            [member.port for member in self.alerting.members],
            list(self.sync_ports.values()),
            service_ports["broker"],
            service_ports["updater"],
            self.node_exporter_port,
        )
        for replica, api in self.prometheus.items():
            config = fill(
                DEMO / "prometheus" / "prometheus.yml.in",
                self.run_dir / f"prometheus-{replica}.yml",
                SCRAPE_INTERVAL=self.scrape_interval,
                SCRAPE_TIMEOUT=self.scrape_interval,
                REPLICA=replica,
                RULE_FILES=rule_lines,
                PROXY_PORT=str(self.proxy_port),
                TARGET_DIR=str(self.target_dir(replica)),
                ALERTMANAGERS=json.dumps(self.alerting.targets),
                SELF_SCRAPE=self_scrape,
                SCRAPE_OPTIONS=PROMETHEUS3_SCRAPE_OPTIONS if replica == PROMETHEUS3 else "",
            )
            argv = [
                *prometheus_command(replica),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.run_dir / f'prometheus-{replica}-data'}",
                f"--web.listen-address=127.0.0.1:{api.port}",
                f"--web.external-url=http://127.0.0.1:{api.port}/",
                *monitoring.PROMETHEUS_FLAGS,
                # Prometheus writes a target's scrape URL, query and all, into its scrape
                # warnings (out-of-order samples or exemplars, say), and these URLs carry the
                # app GUID, the bearer token. Those events are counted in Prometheus' own
                # metrics (`prometheus_target_scrapes_*_total`), which it scrapes itself.
                "--log.level=error",
            ]
            process = self.supervisor.start(api.name, argv)
            self.supervisor.wait_ready(process, api.ready, INFRA_TIMEOUT)

    # -- traffic and targets ---------------------------------------------------------------

    #: The background jobs' queue and duration (the tests use queues of their own).
    BACKGROUND_QUEUE = "background"
    BACKGROUND_JOB_SECONDS = 0.01

    def send_traffic(self, rounds: int = 3) -> None:
        """Requests through the router to every instance: routed, templated, unmatched,
        failing, and a short traced job."""
        for _ in range(rounds):
            for instance in self.instances:
                kind = KINDS[instance.app.kind]
                for path in kind.traffic_paths:
                    self.via_router(instance, path)
                if kind.has_jobs:
                    path = job_path(self.BACKGROUND_QUEUE, self.BACKGROUND_JOB_SECONDS)
                    self.via_router(instance, path, {"traceparent": Trace.new().traceparent})

    def _traffic_loop(self) -> None:
        while not self._traffic_stop.wait(TRAFFIC_PERIOD_SECONDS):
            try:
                self.send_traffic(rounds=1)
            except OSError:
                pass  # an instance being stopped by a test; the next round goes on

    def via_router(self, instance: Instance, path: str, headers: dict | None = None):
        return request(
            self.router_port,
            path,
            {"X-CF-APP-INSTANCE": instance.label, **(headers or {})},
            host=instance.app.route_host,
        )

    def expected_targets(self, apps: Iterable[App] | None = None) -> set[tuple[str, str]]:
        chosen = list(self.apps if apps is None else apps)
        return {(i.app.name, i.label) for i in self.instances if i.app in chosen}

    def targets_by_health(self, replica: str) -> dict[tuple[str, str], str]:
        return {
            (t["labels"].get("job", ""), t["labels"].get("instance", "")): t["health"]
            for t in self.prometheus[replica].active_targets()
        }

    def wait_for_targets(self, expected: set[tuple[str, str]], timeout: float = TARGETS_UP_TIMEOUT) -> None:
        """Until both replicas scrape exactly `expected` (job, instance) pairs, all up."""

        def settled() -> bool:
            for replica in self.prometheus:
                seen = self.targets_by_health(replica)
                if set(seen) != expected or any(h != "up" for h in seen.values()):
                    return False
            return True

        try:
            wait_until(settled, timeout, f"targets {sorted(expected)} up on every Prometheus")
        except TimeoutError as e:
            details = {r: self.targets_by_health(r) for r in self.prometheus}
            raise StartupError(f"{e}; seen: {json.dumps({r: str(d) for r, d in details.items()})}") from None

    # -- reporting ---------------------------------------------------------------------------

    def table(self) -> str:
        """job, instance, up on each replica, series and last scrape, from Prometheus' API."""
        rows = []
        per_replica = {
            r: {self._key(t): t for t in api.active_targets()} for r, api in self.prometheus.items()
        }
        first = per_replica[REPLICAS[0]]
        # Samples per scrape differ: Prometheus 3 takes a native histogram as one sample.
        samples = {r: self._samples_scraped(r) for r in (REPLICAS[0], PROMETHEUS3)}
        for key in sorted(first):
            up = " ".join("1" if per_replica[r].get(key, {}).get("health") == "up" else "0" for r in SERVERS)
            ages = " / ".join(_age(per_replica[r].get(key, {}).get("lastScrape", "")) for r in SERVERS)
            series = " / ".join(counts.get(key, "-") for counts in samples.values())
            rows.append((key[0], key[1], up, series, ages))
        header = (
            "job",
            "instance",
            "up (" + " ".join(SERVERS) + ")",
            f"samples ({' / '.join(samples)})",
            f"last scrape ({' / '.join(SERVERS)})",
        )
        return format_table(header, rows)

    def _samples_scraped(self, replica: str) -> dict[tuple[str, str], str]:
        return {
            (s["metric"].get("job", ""), s["metric"].get("instance", "")): s["value"][1]
            for s in self.prometheus[replica].query("scrape_samples_scraped")
        }

    @staticmethod
    def _key(target: dict) -> tuple[str, str]:
        return target["labels"].get("job", ""), target["labels"].get("instance", "")

    SAMPLE_QUERY = "sum by (job, code) (rate(http_server_requests_total[1m]))"

    def wait_for_notification(self, timeout: float = 90.0) -> bool:
        """Until the webhook receiver got a notification; False if none came in `timeout`."""
        try:
            wait_until(lambda: bool(self.alerting.received()), timeout, "a notification from Alertmanager")
        except TimeoutError:
            return False
        return True

    def sample_query(self) -> list[tuple[str, str, str]]:
        result = self.prometheus[REPLICAS[0]].query(self.SAMPLE_QUERY)
        return sorted(
            (r["metric"].get("job", ""), r["metric"].get("code", ""), f"{float(r['value'][1]):.3f}")
            for r in result
        )

    def wait_for_sample_query(self) -> None:
        """Until the sample query shows requests flowing to every app."""
        jobs = {app.name for app in self.apps}
        wait_until(
            lambda: {job for job, _, rate in self.sample_query() if float(rate) > 0} >= jobs,
            TARGETS_UP_TIMEOUT,
            "request rates of every app",
        )

    #: What `make demo` asks Prometheus 3 about the jobs (server, what, query): native
    #: histograms from the protobuf scrape, the UTF-8 name from the OpenMetrics one.
    PROMETHEUS3_QUERIES = (
        (
            PROMETHEUS3,
            "median job time (native histogram)",
            f"histogram_quantile(0.5, sum by (job) (rate({JOB_HISTOGRAM}[1m])))",
        ),
        (
            PROMETHEUS3,
            "jobs/s (native histogram count)",
            f"sum by (job) (histogram_count(rate({JOB_HISTOGRAM}[1m])))",
        ),
        (PROMETHEUS3_OPENMETRICS, "jobs done (UTF-8 name)", f'sum by (job) ({{"{JOBS_COUNTER}"}})'),
    )
    #: Whose exemplars the report shows: the histogram's and the UTF-8 counter's, from the
    #: OpenMetrics scrape (Prometheus 3.16 ingests protobuf exemplars of only the first
    #: native-histogram series of a family).
    EXEMPLAR_SELECTORS = (
        (PROMETHEUS3_OPENMETRICS, f"{JOB_HISTOGRAM}_bucket"),
        (PROMETHEUS3_OPENMETRICS, f'{{"{JOBS_COUNTER}"}}'),
    )

    def prometheus3_jobs(self) -> list[tuple[str, str, str, str]]:
        """(server, what, job, value) for every PROMETHEUS3_QUERIES row."""
        rows = []
        for replica, what, query in self.PROMETHEUS3_QUERIES:
            for result in self.prometheus[replica].query(query):
                value = f"{float(result['value'][1]):.4g}"
                rows.append((f"prometheus-{replica}", what, result["metric"].get("job", ""), value))
        return sorted(rows)

    def exemplars(self, replica: str, selector: str, seconds: float = 300.0) -> list[dict]:
        """`/api/v1/query_exemplars` for `selector` over the last `seconds`."""
        now = datetime.now(timezone.utc).timestamp()
        return self.prometheus[replica].get(
            "query_exemplars", query=selector, start=f"{now - seconds:.3f}", end=f"{now + 60:.3f}"
        )

    def latest_exemplars(self) -> list[tuple[str, str, str, str]]:
        """(server, job, metric, trace_id) of the newest exemplar Prometheus 3 stored per job
        and metric."""
        newest: dict[tuple[str, str, str], dict] = {}
        for replica, selector in self.EXEMPLAR_SELECTORS:
            for series in self.exemplars(replica, selector):
                key = (f"prometheus-{replica}", series["seriesLabels"].get("job", ""), series["seriesLabels"]["__name__"])
                for exemplar in series["exemplars"]:
                    if key not in newest or exemplar["timestamp"] > newest[key]["timestamp"]:
                        newest[key] = exemplar
        return sorted((*key, e["labels"].get("trace_id", "")) for key, e in newest.items())

    def wait_for_prometheus3_jobs(self) -> None:
        """Until Prometheus 3 has the background jobs of every web app, native and by UTF-8 name."""
        jobs = {app.name for app in self.apps if KINDS[app.kind].has_jobs}

        def every_query_has_every_app() -> bool:
            rows = self.prometheus3_jobs()
            return all({job for _, what, job, _ in rows if what == w} >= jobs for _, w, _ in self.PROMETHEUS3_QUERIES)

        wait_until(every_query_has_every_app, TARGETS_UP_TIMEOUT, "the jobs of every web app on Prometheus 3")

    def alerting_rules(self, replica: str) -> dict[str, str]:
        """Alerting rules Prometheus loaded, by name, with their state (inactive, pending, firing)."""
        groups = self.prometheus[replica].get("rules", type="alert")["groups"]
        return {rule["name"]: rule["state"] for group in groups for rule in group["rules"]}

    def verify_rules_loaded(self) -> None:
        """Every rule file of the running apps is loaded by every replica."""
        expected = [KINDS[app.kind].alert_rules(self.ctx) for app in self.apps]
        if not any(expected):
            return
        for replica in self.prometheus:
            if not self.alerting_rules(replica):
                raise StartupError(f"prometheus-{replica} loaded no alerting rules from {expected}")

    def urls(self) -> list[tuple[str, str]]:
        # Debian's Prometheus 2.42 serves its pages under /classic/ (no React UI).
        out = [(f"Prometheus {r}", f"{self.prometheus[r].url}/classic/targets") for r in REPLICAS]
        for replica in (PROMETHEUS3, PROMETHEUS3_OPENMETRICS):
            url = self.prometheus[replica].url
            query = next(query for server, _, query in self.PROMETHEUS3_QUERIES if server == replica)
            out.append((f"Prometheus {replica}", f"{url}/targets"))
            out.append((f"Prometheus {replica} query", f"{url}/query?g0.expr=" + urllib.parse.quote(query, safe="")))
        graph = f"{self.prometheus[REPLICAS[0]].url}/classic/graph?g0.tab=0&g0.expr=" + urllib.parse.quote(
            self.SAMPLE_QUERY, safe=""
        )
        out.append(("sample query", graph))
        out.append(("alerts", f"{self.prometheus[REPLICAS[0]].url}/classic/alerts"))
        out.append(("Alertmanager", f"{self.alerting.alertmanager_url}/#/alerts"))
        out.append(("what the webhook receiver got", f"http://127.0.0.1:{self.alerting.webhook_port}/received"))
        for replica, port in self.sync_ports.items():
            out.append((f"sync metrics ({replica})", f"http://127.0.0.1:{port}/metrics"))
        out.append(("router (send Host and X-CF-APP-INSTANCE)", f"http://127.0.0.1:{self.router_port}/"))
        out.append(("forward proxy", f"http://127.0.0.1:{self.proxy_port}/"))
        return out


@contextlib.contextmanager
def started_demo(**options) -> Iterator[Demo]:
    """A started `Demo(**options)` for a test module. On the way out it stops everything and
    fails if any process it started (at start or later) is still running."""
    groups: set[int] = set()
    with Demo(**options) as running:
        try:
            running.start()
        finally:
            groups |= {p.pgid for p in running.supervisor.processes}
        try:
            yield running
        finally:
            groups |= {p.pgid for p in running.supervisor.processes}
    leftovers = [pid for pgid in groups for pid in group_members(pgid)]
    assert leftovers == [], f"processes left running after the demo stopped: {leftovers}"


#: What the Prometheus 3 job adds to the shared scrape config: protobuf first in `Accept`,
#: native histograms stored as such (their classic buckets are left to Prometheus 2).
PROMETHEUS3_SCRAPE_OPTIONS = "    scrape_native_histograms: true\n"


def prometheus3_binary() -> Path:
    return PROMETHEUS3_DIR / "prometheus"


def prometheus_command(replica: str) -> list[str]:
    """Debian's 2.42 for the replicas; 3.16 with exemplar storage (off by default) for the
    others. UTF-8 names need no flag in Prometheus 3."""
    if replica in (PROMETHEUS3, PROMETHEUS3_OPENMETRICS):
        return [str(prometheus3_binary()), "--enable-feature=exemplar-storage"]
    return ["prometheus"]


def nginx_argv(config: Path, error_log: Path) -> list[str]:
    return ["nginx", "-c", str(config), "-e", str(error_log), "-g", "daemon off;"]


def prometheus_time(timestamp: str) -> datetime | None:
    """An RFC 3339 timestamp from Prometheus' API, or None before the first scrape."""
    # Prometheus writes nanoseconds and may use a `Z`; `fromisoformat` takes neither.
    match = re.fullmatch(r"(\d{4}-.+T[\d:]{8})(?:\.(\d+))?(Z|[+-][\d:]+)", timestamp)
    if not match or timestamp.startswith("0001-"):
        return None
    whole, fraction, zone = match.groups()
    return datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6]}{zone.replace('Z', '+00:00')}")


def _age(timestamp: str) -> str:
    """Seconds since an RFC 3339 timestamp from Prometheus, or `-` before the first scrape."""
    moment = prometheus_time(timestamp)
    if moment is None:
        return "-"
    return f"{(datetime.now(timezone.utc) - moment).total_seconds():.1f}s ago"


def format_table(header: tuple, rows: list[tuple]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

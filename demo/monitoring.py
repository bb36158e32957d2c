"""The service's own monitoring in the demo, from `service/monitoring/`.

- Three Debian Alertmanagers meshed on loopback (`--cluster.listen-address`, each given the
  other two as `--cluster.peer`), with the service's routing (`alertmanager.yml`) and the
  upload exporter's time-window routes in front of it (`s3.alertmanager_config`). Every
  Prometheus sends every alert to all three.
- The webhook receiver (`webhook.py`) records every notification by path: one path per
  receiver of the routing (`/pager`, `/tickets`, `/service-slack`, `/tenant-slack`, and the
  exporter's windows).
- The dead man's switch stand-in (`deadman.py`): Alertmanager sends it the always-firing
  alert; when it stops hearing it, it posts `/deadmansswitch-missing` to the receiver.
- The rule packs, and the self-scrape jobs every Prometheus adds: `prometheus` (all four
  servers), `alertmanager` (the three members), `targets-sync` (the four syncs), `broker`
  and `updater` (`gds-prometheus-broker` and its updater, demo/broker.py), and `node`
  (Debian's node exporter, with only the filesystem collector the disk rule reads).

The committed files are used as they are, except every value with a `# demo: X` comment,
which becomes X (short `for`, `group_wait`, ... so alerts arrive within seconds), and the
receivers' base URLs, which point at the stand-ins.
"""

from __future__ import annotations

import json
import re
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path


from apps import ROOT
from processes import Process, Supervisor, wait_until
from s3 import alertmanager_config as exporter_alertmanager_config
from web import answers, request

MONITORING = ROOT / "service" / "monitoring"
RULE_FILES = (MONITORING / "rules" / "service.yml", MONITORING / "rules" / "tenant.yml")
ALERTMANAGER_CONFIG = MONITORING / "alertmanager.yml"
#: What alertmanager.yml calls its receivers and the outside dead man's switch.
RECEIVERS_BASE_URL = "http://alert-receivers.example"
DEADMANSSWITCH_URL = "http://deadmansswitch.example/heartbeat"
#: Paths on the webhook receiver, one per receiver of alertmanager.yml.
PAGER = "/pager"
TICKETS = "/tickets"
SERVICE_SLACK = "/service-slack"
TENANT_SLACK = "/tenant-slack"
DEADMANSSWITCH_MISSING = "/deadmansswitch-missing"
#: The dead man's switch repeats every 2s in the demo; the stand-in allows three misses.
DEADMANSSWITCH_TIMEOUT_SECONDS = 6.0
MEMBERS = 3
#: Ports the cluster needs: web and gossip per member, the webhook receiver, the stand-in.
PORTS = 2 * MEMBERS + 2
#: The self-scrape jobs the service rules rely on (service/monitoring/rules/service.yml).
SELF_JOBS = ("prometheus", "alertmanager", "targets-sync", "broker", "updater", "node")
#: The host's node exporter (Debian's package), with only what PrometheusDiskFillingUp reads.
NODE_EXPORTER = ("prometheus-node-exporter", "--collector.disable-defaults", "--collector.filesystem")
INFRA_TIMEOUT = 60.0
#: Gossip tuned for a test on loopback: peers meet, settle and notice a death in seconds.
#: `peer-timeout` is how long the second member waits for the first one's notification
#: (and the third twice as long) before sending its own: above the gossip's round trip.
CLUSTER_FLAGS = (
    "--cluster.gossip-interval=50ms",
    "--cluster.pushpull-interval=2s",
    "--cluster.probe-interval=200ms",
    "--cluster.probe-timeout=100ms",
    "--cluster.settle-timeout=3s",
    "--cluster.peer-timeout=2s",
    "--cluster.reconnect-interval=1s",
)
#: Prometheus resends a firing alert only every resend delay (1m by default): the alerts of
#: the first evaluation, dropped before the Alertmanagers are discovered, and those a member
#: missed while it was down reach the cluster within seconds instead.
PROMETHEUS_FLAGS = ("--rules.alert.resend-delay=2s",)
DEMO_VALUE = re.compile(r"^(?P<key>\s*(?:- )?[A-Za-z_]+: )\S+(?P<comment>\s+# demo: (?P<value>\S+))\s*$")


def with_demo_values(text: str) -> str:
    """`text` with the value of every `key: value  # demo: X` line replaced by X."""
    lines = []
    for line in text.splitlines():
        match = DEMO_VALUE.match(line)
        lines.append(f"{match['key']}{match['value']}{match['comment']}" if match else line)
    return "\n".join(lines) + "\n"


def rule_files(run_dir: Path) -> list[Path]:
    """The service's and tenants' rule packs with their demo durations, for every Prometheus."""
    out_dir = run_dir / "rules"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in RULE_FILES:
        out = out_dir / source.name
        out.write_text(f"# {source.relative_to(ROOT)}, with its demo values.\n" + with_demo_values(source.read_text()))
        written.append(out)
    return written


def self_scrape_jobs(
    prometheus_ports: list[int],
    alertmanager_ports: list[int],
    sync_ports: list[int],
    broker_port: int,
    updater_port: int,
    node_port: int,
) -> str:
    """The scrape jobs every Prometheus adds for the service itself (YAML, in scrape_configs)."""
    targets = (prometheus_ports, alertmanager_ports, sync_ports, [broker_port], [updater_port], [node_port])
    jobs = zip(SELF_JOBS, targets, strict=True)
    return "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: {json.dumps([f'127.0.0.1:{p}' for p in ports])}\n"
        for job, ports in jobs
    )


def alertmanager_config(webhook_port: int, deadman_port: int, now: datetime | None = None) -> dict:
    """alertmanager.yml with the demo's values and receivers, behind the exporter's routes."""
    # Imported here: `make demo` imports this module before it installs python3-yaml.
    import yaml

    text = with_demo_values(ALERTMANAGER_CONFIG.read_text())
    text = text.replace(DEADMANSSWITCH_URL, f"http://127.0.0.1:{deadman_port}/heartbeat")
    text = text.replace(RECEIVERS_BASE_URL, f"http://127.0.0.1:{webhook_port}")
    config = yaml.safe_load(text)
    exporter = exporter_alertmanager_config(webhook_port, now)
    # The exporter's routes (`continue: true`) keep their own grouping in front of the tree.
    exporter_routes = [{"group_by": exporter["route"]["group_by"], **r} for r in exporter["route"]["routes"]]
    config["route"]["routes"] = exporter_routes + config["route"]["routes"]
    names = {r["name"] for r in config["receivers"]}
    config["receivers"] += [r for r in exporter["receivers"] if r["name"] not in names]
    config["time_intervals"] = exporter["time_intervals"]
    return config


def start_node_exporter(supervisor: Supervisor, port: int) -> Process:
    """The node exporter of the demo's one host, on loopback (job `node`)."""
    process = supervisor.start("node-exporter", [*NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}"])
    supervisor.wait_ready(process, lambda: answers(port, "/metrics"), INFRA_TIMEOUT)
    return process


@dataclass
class Member:
    """One Alertmanager of the cluster: its web port and its gossip port."""

    index: int
    port: int
    cluster_port: int
    process: Process | None = None

    @property
    def name(self) -> str:
        return f"alertmanager-{self.index}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class AlertmanagerCluster:
    """Three meshed Alertmanagers, the webhook receiver they notify and the dead man's switch."""

    def __init__(self, run_dir: Path, ports: list[int]):
        if len(ports) != PORTS:
            raise ValueError(f"the cluster needs {PORTS} ports, got {len(ports)}")
        self.run_dir = run_dir
        self.members = [Member(i, ports[2 * i], ports[2 * i + 1]) for i in range(MEMBERS)]
        self.webhook_port, self.deadman_port = ports[-2:]
        self.supervisor: Supervisor | None = None

    @property
    def alertmanager_port(self) -> int:
        return self.members[0].port

    @property
    def alertmanager_url(self) -> str:
        return self.members[0].url

    @property
    def targets(self) -> list[str]:
        """Every member's address, for Prometheus' `alertmanagers` and the self-scrape."""
        return [f"127.0.0.1:{m.port}" for m in self.members]

    # -- start and stop --------------------------------------------------------------------

    def start(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        webhook = supervisor.start("webhook", ["python3", str(ROOT / "demo" / "webhook.py"), str(self.webhook_port)])
        supervisor.wait_ready(webhook, lambda: answers(self.webhook_port, "/received"), INFRA_TIMEOUT)
        notify = f"http://127.0.0.1:{self.webhook_port}{DEADMANSSWITCH_MISSING}"
        argv = ["python3", str(ROOT / "demo" / "deadman.py"), str(self.deadman_port)]
        argv += ["--timeout", str(DEADMANSSWITCH_TIMEOUT_SECONDS), "--notify", notify]
        deadman = supervisor.start("deadman", argv)
        supervisor.wait_ready(deadman, lambda: answers(self.deadman_port, "/status"), INFRA_TIMEOUT)
        config = self.run_dir / "alertmanager.yml"
        # JSON is YAML: Alertmanager reads it as it is.
        config.write_text(json.dumps(alertmanager_config(self.webhook_port, self.deadman_port), indent=2))
        for member in self.members:
            self.start_member(member)
        self.wait_until_meshed()

    def start_member(self, member: Member) -> None:
        peers = [f"--cluster.peer=127.0.0.1:{m.cluster_port}" for m in self.members if m is not member]
        argv = [
            "prometheus-alertmanager",
            f"--config.file={self.run_dir / 'alertmanager.yml'}",
            f"--storage.path={self.run_dir / f'{member.name}-data'}",
            f"--web.listen-address=127.0.0.1:{member.port}",
            f"--web.external-url={member.url}/",
            f"--cluster.listen-address=127.0.0.1:{member.cluster_port}",
            *peers,
            *CLUSTER_FLAGS,
            "--log.level=warn",
        ]
        member.process = self.supervisor.start(member.name, argv)
        self.supervisor.wait_ready(member.process, lambda: answers(member.port, "/-/ready"), INFRA_TIMEOUT)

    def stop_member(self, member: Member) -> None:
        if member.process:
            self.supervisor.stop(member.process)
            member.process = None

    def running(self) -> list[Member]:
        return [m for m in self.members if m.process]

    # -- the cluster's state ---------------------------------------------------------------

    def status(self, member: Member) -> dict:
        return json.loads(request(member.port, "/api/v2/status").body)

    def peers_seen(self, member: Member) -> set[str]:
        """Gossip addresses of the peers `member` knows, itself included."""
        return {peer["address"] for peer in self.status(member)["cluster"].get("peers") or []}

    def meshed(self) -> bool:
        """Every running member sees exactly the running members, and has settled."""
        expected = {f"127.0.0.1:{m.cluster_port}" for m in self.running()}
        try:
            return all(
                self.peers_seen(m) == expected and self.status(m)["cluster"]["status"] == "ready"
                for m in self.running()
            )
        except (OSError, ValueError):
            return False

    def wait_until_meshed(self, timeout: float = INFRA_TIMEOUT) -> None:
        wait_until(self.meshed, timeout, f"{len(self.running())} Alertmanagers to see each other")

    def alerts(self, member: Member) -> list[dict]:
        return json.loads(request(member.port, "/api/v2/alerts").body)

    def silence(self, member: Member, matchers: dict[str, str], minutes: int = 30) -> str:
        """Creates a silence on `member` only; answers its id."""
        now = datetime.now(timezone.utc)
        body = {
            "matchers": [{"name": k, "value": v, "isRegex": False, "isEqual": True} for k, v in matchers.items()],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(minutes=minutes)).isoformat(),
            "createdBy": "demo",
            "comment": "created by the demo",
        }
        return post_json(f"{member.url}/api/v2/silences", body)["silenceID"]

    def expire(self, member: Member, silence_id: str) -> None:
        urllib.request.urlopen(
            urllib.request.Request(f"{member.url}/api/v2/silence/{silence_id}", method="DELETE"), timeout=10
        ).close()

    def active_silences(self, member: Member) -> set[str]:
        silences = json.loads(request(member.port, "/api/v2/silences").body)
        return {s["id"] for s in silences if s["status"]["state"] == "active"}

    # -- what the receivers got ------------------------------------------------------------

    def received(self) -> list[dict]:
        """Every notification the receiver got: `{"path": route, "body": Alertmanager's JSON}`."""
        return json.loads(request(self.webhook_port, "/received").body)

    def notified(self, path: str) -> list[dict]:
        """The alerts (with their status) delivered to the receiver at `path`."""
        return [alert for n in self.received() if n["path"] == path for alert in n["body"].get("alerts", [])]

    def notifications(self, path: str, alertname: str, status: str = "firing", **group: str) -> list[dict]:
        """Notifications to `path` of the groups of `alertname` (and the `group` labels) with
        `status`, oldest first."""
        wanted = {"alertname": alertname, **group}
        return [
            n["body"]
            for n in self.received()
            if n["path"] == path
            and wanted.items() <= n["body"].get("groupLabels", {}).items()
            and n["body"].get("status") == status
        ]

    def deadman(self) -> dict:
        """The dead man's switch stand-in: heartbeats heard, seconds since the last, missing."""
        return json.loads(request(self.deadman_port, "/status").body)


def post_json(url: str, body: dict) -> dict:
    data = json.dumps(body).encode()
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as reply:
        return json.loads(reply.read())


def firing_service_alerts(prometheus) -> list[str]:
    """Names of the service's alerts firing on one Prometheus (`product: prometheus-service`)."""
    return sorted(
        {
            a["labels"]["alertname"]
            for a in prometheus.alerts()
            if a["state"] == "firing" and a["labels"].get("product") == "prometheus-service"
        }
    )


def report(alerting: AlertmanagerCluster, prometheus: dict) -> str:
    """What `make demo` prints about the service's monitoring: cluster, alerts, receivers."""
    lines = ["\nAlertmanager cluster (members each sees):"]
    for member in alerting.members:
        seen = len(alerting.peers_seen(member)) if member.process else "down"
        lines.append(f"  {member.name} {member.url}: {seen}")
    lines.append("\nService alerts firing (product=prometheus-service):")
    for replica, api in prometheus.items():
        lines.append(f"  prometheus-{replica}: {', '.join(firing_service_alerts(api)) or '(none)'}")
    lines.append("\nWhat each receiver got (notifications: alert names):")
    by_path: dict[str, list[str]] = {}
    for n in alerting.received():
        body = n["body"]
        names = sorted({a.get("labels", {}).get("alertname", "") for a in body.get("alerts", [])})
        by_path.setdefault(n["path"], []).append(f"{body.get('status')} {'/'.join(names) or body.get('alertname', '')}")
    for path, notes in sorted(by_path.items()):
        counted = {note: notes.count(note) for note in notes}
        lines.append(f"  {path}: " + "; ".join(f"{note} x{count}" for note, count in sorted(counted.items())))
    heard = alerting.deadman()
    lines.append(f"\nDead man's switch stand-in: {heard['heartbeats']} heartbeats, missing={heard['missing']}")
    return "\n".join(lines)

"""The service side of the demo: what a Cloud Foundry does when a tenant binds an app.

- `cf_api.py`, the Cloud Controller v3 and UAA stand-in, serves the example apps (their
  GUIDs, names, instances, routes, space and org);
- `gds-prometheus-broker` answers the Open Service Broker calls and writes each bound
  app's target file to `s3://targets`, from what the stand-in says;
- `gds-prometheus-broker update --every UPDATE_PERIOD` keeps the files true;
- `Cf` makes the calls `cf create-service` and `cf bind-service` make the platform do:
  the OSB calls to the broker, then the binding recorded in the Cloud Controller. Its
  `scale`, `stop`, `start`, `rename` and `delete` change an app in the stand-in, as
  `cf scale` and friends change it on the PaaS; the updater carries the change to the
  targets within one period.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

from apps import ORG, SPACE, App, BuildContext, cargo_binary
from processes import StartupError, Supervisor
from web import answers

BINARY = "gds-prometheus-broker"
UPDATE_PERIOD = "2s"
USERNAME = "demo-platform"
PASSWORD = "demo-broker-password"
CLIENT_ID = "prometheus-broker"
CLIENT_SECRET = "demo-client-secret"
SERVICE_ID = "0f0a5f3d-6b28-4d8e-9a4c-5f2b0b8c1a61"
PLAN_ID = "8d4d5bd4-8b0a-4f6e-9c0e-2a6c3b1f7e52"
NAMESPACE = uuid.UUID("8c3f2a10-7e5d-4b6c-9a1f-2e3d4c5b6a70")
CF_API = Path(__file__).resolve().parent / "cf_api.py"


def cf_app(app: App) -> dict:
    """An example app as the Cloud Controller stand-in serves it."""
    return {
        "guid": app.guid,
        "name": app.name,
        "state": "STARTED",
        "instances": app.instances,
        "routes": [app.route_host],
        "space": SPACE,
        "org": ORG,
    }


def named_ports(ports: list[int]) -> dict[str, int]:
    """The three ports the service side is given, by what listens there."""
    return dict(zip(("cf_api", "broker", "updater"), ports, strict=True))


class ServiceSide:
    """The stand-in, the broker and the updater, started under the demo's supervisor."""

    def __init__(self, run_dir: Path, ctx: BuildContext):
        self.run_dir = run_dir
        self.ctx = ctx
        self.ports: dict[str, int] = {}
        self.cf: Cf | None = None
        self.updater = None

    def build(self) -> None:
        profile = ["--release"] if self.ctx.release else []
        self.ctx.run(["cargo", "build", "-q", *profile, "-p", BINARY])

    def start(
        self,
        supervisor: Supervisor,
        apps: list[App],
        ports: list[int],
        s3_env: dict[str, str],
        location: str = "s3://targets",
    ) -> None:
        self.ports = named_ports(ports)
        apps_file = self.run_dir / "cf-apps.json"
        apps_file.write_text(json.dumps([cf_app(app) for app in apps], indent=2))
        cf_api = supervisor.start(
            "cf-api",
            [sys.executable, str(CF_API), "--port", str(self.ports["cf_api"]), "--apps", str(apps_file),
             "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET],
        )
        supervisor.wait_ready(cf_api, lambda: answers(self.ports["cf_api"], "/"), 20)
        env = {
            **s3_env,
            "TARGETS_LOCATION": location,
            "CF_API_URL": f"http://127.0.0.1:{self.ports['cf_api']}",
            "CF_CLIENT_ID": CLIENT_ID,
            "CF_CLIENT_SECRET": CLIENT_SECRET,
            "BIND_ADDRESS": "127.0.0.1",
        }
        binary = str(cargo_binary(self.ctx, BINARY))
        broker = supervisor.start(
            "broker",
            [binary],
            {**env, "PORT": str(self.ports["broker"]), "BROKER_USERNAME": USERNAME, "BROKER_PASSWORD": PASSWORD},
        )
        supervisor.wait_ready(broker, lambda: answers(self.ports["broker"], "/metrics"), 30)
        updater = self.updater = supervisor.start("updater", [binary, "update", "--every", UPDATE_PERIOD],
                                   {**env, "PORT": str(self.ports["updater"])})
        supervisor.wait_ready(updater, lambda: answers(self.ports["updater"], "/metrics"), 30)
        self.cf = Cf(self.ports["broker"], self.ports["cf_api"])


    @contextmanager
    def updater_paused(self):
        """Holds the updater still (SIGSTOP), for a test that plants a file by hand and
        must see it before the updater puts the right one back."""
        os.killpg(self.updater.pgid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.killpg(self.updater.pgid, signal.SIGCONT)


class Cf:
    """`cf create-service`, `cf bind-service`, `cf unbind-service` and the app commands, as
    the platform carries them out."""

    def __init__(self, broker_port: int, cf_api_port: int):
        self.broker_port = broker_port
        self.cf_api_port = cf_api_port
        self.instance = str(uuid.uuid5(NAMESPACE, "my-prometheus"))

    def create_service(self) -> None:
        self._osb("PUT", f"/v2/service_instances/{self.instance}",
                  {"service_id": SERVICE_ID, "plan_id": PLAN_ID, "organization_guid": ORG, "space_guid": SPACE},
                  (200, 201))

    def binding_id(self, app: App, generation: int = 0) -> str:
        return str(uuid.uuid5(NAMESPACE, f"binding:{app.guid}:{generation}"))

    def bind_service(self, app: App, generation: int = 0) -> None:
        """What `cf bind-service APP my-prometheus` makes the platform do."""
        binding = self.binding_id(app, generation)
        body = {"service_id": SERVICE_ID, "plan_id": PLAN_ID, "bind_resource": {"app_guid": app.guid}}
        if app.exporter:
            body["parameters"] = {"exporter": True}
        self._osb("PUT", f"/v2/service_instances/{self.instance}/service_bindings/{binding}", body, (200, 201))
        self._cf_api("POST", "/v3/service_credential_bindings", {
            "guid": binding, "type": "app", "name": None,
            "relationships": {"app": {"data": {"guid": app.guid}},
                              "service_instance": {"data": {"guid": self.instance}}},
        }, token=True)

    def unbind_service(self, app: App, generation: int = 0) -> int:
        binding = self.binding_id(app, generation)
        query = f"service_id={SERVICE_ID}&plan_id={PLAN_ID}"
        return self._osb("DELETE", f"/v2/service_instances/{self.instance}/service_bindings/{binding}?{query}",
                         None, (200, 410))

    def change(self, app: App, change: dict) -> None:
        """`cf scale`, `cf stop`, `cf start`, `cf rename`, `cf delete` in the stand-in."""
        self._cf_api("POST", f"/admin/apps/{app.guid}", change)

    def recreate(self, app: App) -> None:
        """The app pushed again after a delete (same GUID, for the demo's sake)."""
        self._cf_api("POST", "/admin/apps", cf_app(app))

    def _osb(self, method: str, path: str, body: dict | None, ok: tuple[int, ...]) -> int:
        credentials = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
        headers = {"Authorization": f"Basic {credentials}", "X-Broker-API-Version": "2.17",
                   "X-Broker-API-Originating-Identity":
                       "cloudfoundry " + base64.b64encode(b'{"user_id": "demo-tenant"}').decode()}
        status, text = _call(self.broker_port, method, path, body, headers)
        if status not in ok:
            raise StartupError(f"the broker answered {method} {path} with {status}: {text}")
        return status

    def _cf_api(self, method: str, path: str, body: dict, token: bool = False) -> None:
        headers = {}
        if token:
            basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            status, text = _call(self.cf_api_port, "POST", "/oauth/token", None,
                                 {"Authorization": f"Basic {basic}",
                                  "Content-Type": "application/x-www-form-urlencoded"},
                                 raw=b"grant_type=client_credentials")
            headers["Authorization"] = f"bearer {json.loads(text)['access_token']}"
        status, text = _call(self.cf_api_port, method, path, body, headers)
        if status >= 300:
            raise StartupError(f"the Cloud Controller stand-in answered {method} {path} with {status}: {text}")


def _call(port: int, method: str, path: str, body: dict | None, headers: dict, raw: bytes | None = None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        payload = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if body is not None:
            headers = {**headers, "Content-Type": "application/json"}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()

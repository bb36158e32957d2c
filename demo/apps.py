"""The tenant apps of the demo: who they are on the fake PaaS and how each one is run.

Each app has what Cloud Foundry would give it: a GUID (its bearer token), a name (the
`job` label), an org and space, a route host, and per instance a `PORT`,
`CF_INSTANCE_INDEX` and a `VCAP_APPLICATION` JSON object. `demo/kinds.py` knows how to
build and start each framework's example app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
ORG = "gds-demo"
SPACE = "sandbox"
DOMAIN = "demo-apps.test"


@dataclass(frozen=True)
class App:
    kind: str
    name: str
    guid: str
    instances: int
    exporter: bool = False

    @property
    def route_host(self) -> str:
        return f"{self.name}.{DOMAIN}"

    def facts(self, instances: int | None = None) -> dict:
        """The app as a broker knows it: the input of `gds-metrics-targets`."""
        return {
            "guid": self.guid,
            "name": self.name,
            "instances": self.instances if instances is None else instances,
            "route_host": self.route_host,
            "org": ORG,
            "space": SPACE,
            "exporter": self.exporter,
        }

    def instance_env(self, index: int, port: int) -> dict[str, str]:
        vcap = {
            "application_id": self.guid,
            "application_name": self.name,
            "application_uris": [self.route_host],
            "instance_index": index,
            "organization_name": ORG,
            "space_name": SPACE,
        }
        return {
            "PORT": str(port),
            "CF_INSTANCE_INDEX": str(index),
            "VCAP_APPLICATION": json.dumps(vcap),
        }


# Fixed, real-looking GUIDs so that a target file, a log line and a query can be compared
# across runs.
APPS = [
    App("flask", "flask-app", "4c1c6f0e-8a6b-4f4e-9d1a-2b7e5f3c9a10", instances=2),
    App("sinatra", "sinatra-app", "9b2e7d4a-3c5f-4a8e-b1d6-7e0f2a9c4b53", instances=1),
    App("dropwizard", "dropwizard-app", "e7a3f9c2-6d1b-4e5a-8c7f-0b4d2e6a1f98", instances=1),
    App("exporter", "upload-exporter", "2d8f4b6e-1a3c-4f7d-9e2b-5c6a8d0f3e74", instances=1, exporter=True),
]


@dataclass
class BuildContext:
    """Where builds put things, shared by every kind."""

    build_dir: Path
    run_dir: Path
    release: bool = False
    log: Callable[[str], None] = print
    extra_env: dict[str, str] = field(default_factory=dict)
    #: The S3 server's endpoint and credentials (AWS variables), for apps that read S3.
    s3_env: dict[str, str] = field(default_factory=dict)

    def run(self, argv: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None) -> None:
        self.log("$ " + " ".join(argv))
        subprocess.run(argv, cwd=cwd, check=True, env={**os.environ, **(env or {})})


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path


def cargo_target_dir() -> Path:
    """Where cargo puts its output: the root Makefile exports `CARGO_TARGET_DIR`."""
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def cargo_binary(ctx: BuildContext, name: str) -> Path:
    return cargo_target_dir() / ("release" if ctx.release else "debug") / name


def python_in_venv(ctx: BuildContext) -> Path:
    return ctx.build_dir / "venv" / "bin" / "python"


def ensure_venv(ctx: BuildContext) -> Path:
    """The demo's virtual environment (the tenant Flask app's and the e2e test's)."""
    python = python_in_venv(ctx)
    if not python.exists():
        ctx.run([sys.executable, "-m", "venv", str(python.parent.parent)])
        ctx.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"])
    return python

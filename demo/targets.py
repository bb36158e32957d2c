"""Target files, written the way a service broker writes them: with `gds-metrics-targets`.

The demo never writes a target file's JSON itself (the schema lives once, in the core).
It hands the CLI a desired state (every bound app with its facts and whether it is
started or stopped) and lets `apply` write `active/`, move to `inactive/` and remove, in
the store at `location` (`s3://targets` in the demo, whose objects the S3 server keeps as
files under `store_dir`).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from apps import BuildContext, cargo_binary

CLI = "gds-metrics-targets"


class TargetsCli:
    def __init__(self, location: str, store_dir: Path, ctx: BuildContext):
        self.location = location
        self.store_dir = store_dir
        self.ctx = ctx
        #: The S3 endpoint and credentials, once the S3 server has a port.
        self.env: dict[str, str] = {}

    @property
    def active_dir(self) -> Path:
        return self.store_dir / "active"

    @property
    def inactive_dir(self) -> Path:
        return self.store_dir / "inactive"

    @property
    def binary(self) -> Path:
        return cargo_binary(self.ctx, CLI)

    def build(self) -> None:
        profile = ["--release"] if self.ctx.release else []
        self.ctx.run(
            ["cargo", "build", "-q", *profile, "-p", "gds-metrics", "--features", "cli,s3", "--bin", CLI]
        )

    def apply(self, bound: dict[str, tuple[str, dict]], only_listed: bool = False) -> str:
        """Makes the store match `bound` (guid -> (state, facts)); apps left out are unbound.
        `only_listed`: a target updater's run, refreshing bound apps and binding none."""
        desired = [{**facts, "state": state} for state, facts in bound.values()]
        flags = ["--only-listed"] if only_listed else []
        return self._run(["apply", *flags, "--dir", self.location, "-"], json.dumps(desired))

    def render(self, facts: dict) -> list[dict]:
        """The target groups the CLI writes for `facts`, parsed."""
        return json.loads(self._run(["render", "-"], json.dumps(facts)))

    def _run(self, args: list[str], stdin: str) -> str:
        env = {**os.environ, **self.env}
        done = subprocess.run([str(self.binary), *args], input=stdin, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"{CLI} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

"""Target files, written the way a service broker writes them: with `gds-metrics-targets`.

The demo never writes a target file's JSON itself (the schema lives once, in the core).
It hands the CLI a desired state (every bound app with its facts and whether it is
started or stopped) and lets `apply` write `active/`, move to `inactive/` and remove.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from apps import BuildContext, cargo_binary

CLI = "gds-metrics-targets"


class TargetsCli:
    def __init__(self, root: Path, ctx: BuildContext):
        self.root = root
        self.ctx = ctx

    @property
    def active_dir(self) -> Path:
        return self.root / "active"

    @property
    def inactive_dir(self) -> Path:
        return self.root / "inactive"

    @property
    def binary(self) -> Path:
        return cargo_binary(self.ctx, CLI)

    def build(self) -> None:
        profile = ["--release"] if self.ctx.release else []
        self.ctx.run(
            ["cargo", "build", "-q", *profile, "-p", "gds-metrics", "--features", "cli", "--bin", CLI]
        )

    def apply(self, bound: dict[str, tuple[str, dict]]) -> str:
        """Makes the store match `bound` (guid -> (state, facts)); apps left out are unbound."""
        desired = [{**facts, "state": state} for state, facts in bound.values()]
        return self._run(["apply", "--dir", str(self.root), "-"], json.dumps(desired))

    def render(self, facts: dict) -> list[dict]:
        """The target groups the CLI writes for `facts`, parsed."""
        return json.loads(self._run(["render", "-"], json.dumps(facts)))

    def _run(self, args: list[str], stdin: str) -> str:
        done = subprocess.run([str(self.binary), *args], input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{CLI} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

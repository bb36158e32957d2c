"""How each framework's example app in `examples/` is built and started.

A kind is available when its example and the binding it depends on are both in the
tree; the demo runs the apps whose kind is available and names the others.
"""

from __future__ import annotations

import json
import os
import sys
from abc import ABC, abstractmethod
from pathlib import Path

from apps import ROOT, App, BuildContext, Launch, cargo_binary, ensure_venv, python_in_venv

EXAMPLES = ROOT / "examples"

#: Requests every web example answers the same way, so the request metrics line up:
#: a route, a templated route twice, an unmatched path and an unhandled exception.
WEB_TRAFFIC = ("/", "/users/42", "/users/7", "/no/such/page", "/boom")


class Kind(ABC):
    """How one framework's example app is built and started."""

    example: Path
    #: The binding (or crate) the example depends on; without it the kind is unavailable.
    requires: Path
    #: Debian packages its build or run needs.
    packages: tuple[str, ...] = ()
    #: Seconds a cold start may take on a busy machine.
    start_timeout: float = 120.0
    traffic_paths: tuple[str, ...] = WEB_TRAFFIC
    #: Whether it has the jobs route of `demo/jobs.py` (every web example has).
    has_jobs: bool = True
    #: Processes serving one instance, and requests each serves at once.
    workers: int = 1
    threads: int = 1

    def available(self) -> bool:
        return self.example.is_dir() and self.requires.exists()

    @abstractmethod
    def build(self, ctx: BuildContext) -> None: ...

    @abstractmethod
    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch: ...

    def alert_rules(self, ctx: BuildContext) -> Path | None:
        """A rule file Prometheus should load for this app, if it ships one."""
        return None


class FlaskKind(Kind):
    """`examples/flask-app` under gunicorn with several workers, in the demo's venv."""

    example = EXAMPLES / "flask-app"
    requires = ROOT / "bindings-python" / "pyproject.toml"
    packages = ("python3-venv",)
    #: gunicorn's sync workers, one request each at a time (`gunicorn.conf.py` has 3 too).
    workers = 3

    def build(self, ctx: BuildContext) -> None:
        python = ensure_venv(ctx)
        ctx.run([str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=self.example)

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        gunicorn = python_in_venv(ctx).parent / "gunicorn"
        argv = [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:app"]
        argv += ["--workers", str(self.workers)]
        return Launch(argv, {**app.instance_env(index, port), **ctx.extra_env}, self.example)


class FlaskPeerKind(FlaskKind):
    """The same Flask app on the library this project replaces, `gds-metrics` 0.2.4 from
    PyPI (prometheus_client's multi-process mode), for the load benchmark's comparison:
    `demo/flask-peer`, the example's routes and custom series on 0.2.4's API."""

    example = ROOT / "demo" / "flask-peer"
    requires = example / "app.py"
    PEER = "gds-metrics==0.2.4"
    # The load benchmark sends it only the shared routes: 0.2.4 knows no native histograms.
    has_jobs = False

    def venv(self, ctx: BuildContext) -> Path:
        return ctx.build_dir / "peer-venv"

    def build(self, ctx: BuildContext) -> None:
        python = self.venv(ctx) / "bin" / "python"
        if not python.exists():
            ctx.run([sys.executable, "-m", "venv", str(self.venv(ctx))])
        ctx.run([str(python), "-m", "pip", "install", "-q", self.PEER, "flask", "gunicorn"])

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        # 0.2.4 keeps its files in `prometheus_multiproc_dir` (default `/tmp`): a fresh one.
        files = ctx.run_dir / "instances" / f"{app.name}-{index}" / "prometheus_multiproc"
        files.mkdir(parents=True, exist_ok=True)
        gunicorn = self.venv(ctx) / "bin" / "gunicorn"
        argv = [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:app"]
        env = {**app.instance_env(index, port), **ctx.extra_env, "prometheus_multiproc_dir": str(files)}
        return Launch(argv, env, self.example)


class SinatraKind(Kind):
    """`examples/sinatra-app` under puma in cluster mode, on the gem's compiled extension."""

    example = EXAMPLES / "sinatra-app"
    binding = ROOT / "bindings-ruby"
    requires = binding / "Rakefile"
    packages = ("ruby", "ruby-dev", "rake", "ruby-rack", "ruby-sinatra", "puma", "libclang-dev")
    #: puma's cluster workers (`WEB_CONCURRENCY`) and their threads (`puma.rb`).
    workers = 2
    threads = 4

    def build(self, ctx: BuildContext) -> None:
        ctx.run(["rake", "compile"], cwd=self.binding)

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        env = {
            **app.instance_env(index, port),
            **ctx.extra_env,
            "RUBYLIB": str(self.binding / "lib"),
            "WEB_CONCURRENCY": str(self.workers),
        }
        return Launch(["puma", "--config", "puma.rb", "config.ru"], env, self.example)


class DropwizardKind(Kind):
    """`examples/dropwizard-app`, a shaded jar depending on the Java binding through Maven."""

    example = EXAMPLES / "dropwizard-app"
    binding = ROOT / "bindings-java"
    requires = binding / "pom.xml"
    packages = ("openjdk-17-jdk-headless", "maven")
    start_timeout = 180.0
    #: One JVM; Jetty's default pool serves far more requests at once than the tests send.
    threads = 16

    def available(self) -> bool:
        return super().available() and any(self.binding.rglob("MetricsBundle.java"))

    def build(self, ctx: BuildContext) -> None:
        # The binding's own tests run in `make test-java`; here it is only installed, into
        # the checkout's own Maven repository (as `make test-java` does), so that another
        # checkout's install can never be the one the example is packaged with.
        repo = f"-Dmaven.repo.local={ROOT / '.build' / 'm2'}"
        ctx.run(["mvn", "-q", "-B", repo, "install", "-DskipTests"], cwd=self.binding)
        # `clean`: otherwise the jar plugin finds the shaded jar of the last build newer
        # than the classes and keeps it, and the shade plugin re-shades it with its old
        # copy of the binding ahead of the one just installed.
        ctx.run(["mvn", "-q", "-B", repo, "clean", "package"], cwd=self.example)

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        argv = [
            "java",
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-jar",
            "target/dropwizard-app.jar",
            "server",
            "config.yml",
        ]
        env = {**app.instance_env(index, port), **ctx.extra_env, "BIND_HOST": "127.0.0.1"}
        return Launch(argv, env, self.example)


class ExporterKind(Kind):
    """`examples/upload-exporter`, the Rust exporter, watching the demo's `uploads` bucket."""

    example = EXAMPLES / "upload-exporter"
    requires = example / "Cargo.toml"
    packages = ()
    start_timeout = 60.0
    traffic_paths = ("/healthz", "/no/such/page")
    has_jobs = False
    #: Prefixes seeded into the upload bucket. The exporter's deadline is on `daily-reports`,
    #: whose only file is three days old; `invoices` has a file from now.
    STALE_PREFIX = "daily-reports"
    FRESH_PREFIX = "invoices"
    STALE_AGE_SECONDS = 3 * 24 * 3600
    #: The exporter's rules as shipped, pending for 10s instead of 5m so that they fire while
    #: the demo runs. The timing is in the exporter's configuration, not in the rules.
    RULE_CHANGES = (("for: 5m", "for: 10s"),)
    #: Every day by midnight in London, so `daily-reports` is overdue at any time of day.
    DEADLINE = {"time": "00:00", "time_zone": "Europe/London", "days": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}

    def build(self, ctx: BuildContext) -> None:
        profile = ["--release"] if ctx.release else []
        ctx.run(["cargo", "build", "-q", *profile, "-p", "upload-exporter"])

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        uploads = self.upload_dir(ctx, index)
        self.seed(uploads, int(ctx.extra_env.get("DEMO_EXTRA_SERIES", "0")))
        binary = cargo_binary(ctx, "upload-exporter")
        config = self.write_config(ctx, index)
        env = {**app.instance_env(index, port), **ctx.s3_env, "BIND_ADDRESS": "127.0.0.1"}
        return Launch([str(binary), "--config", str(config), "--refresh-interval", "1"], env, self.example)

    def source(self, index: int) -> str:
        """The S3 prefix instance `index` watches: `upload_dir` seen through S3."""
        return f"s3://uploads/{index}"

    def write_config(self, ctx: BuildContext, index: int) -> Path:
        config = ctx.run_dir / f"upload-exporter-{index}.toml"
        deadline = "\n".join(f"{key} = {json.dumps(value)}" for key, value in self.DEADLINE.items())
        config.write_text(
            f'sources = ["{self.source(index)}"]\nlist_timeout_seconds = 10\n\n'
            f'[[deadlines]]\nprefix = "{self.STALE_PREFIX}"\n{deadline}\n'
        )
        return config

    def upload_dir(self, ctx: BuildContext, index: int) -> Path:
        """Where the S3 server keeps the objects of `source(index)`."""
        return ctx.run_dir / "uploads" / str(index)

    def seed(self, uploads: Path, extra_series: int) -> None:
        """A fresh prefix, a stale one and, for the load benchmark, many more prefixes."""
        for prefix in (self.FRESH_PREFIX, self.STALE_PREFIX):
            (uploads / prefix).mkdir(parents=True, exist_ok=True)
            (uploads / prefix / "2026-11-20.csv").write_text("id,amount\n1,100\n")
        stale = uploads / self.STALE_PREFIX / "2026-11-20.csv"
        old = stale.stat().st_mtime - self.STALE_AGE_SECONDS
        os.utime(stale, (old, old))
        # Three series per prefix (newest file, files, bytes).
        for n in range(extra_series // 3):
            (uploads / f"partner-{n:05}").mkdir(exist_ok=True)
            (uploads / f"partner-{n:05}" / "upload.csv").write_text("id\n")

    def alert_rules(self, ctx: BuildContext) -> Path | None:
        source = self.example / "alerts.yml"
        if not source.exists():
            return None
        text = source.read_text()
        for before, after in self.RULE_CHANGES:
            if text.count(before) != 1:
                raise ValueError(f"{source}: expected `{before}` once, to instantiate the rule for the demo")
            text = text.replace(before, after)
        rules = ctx.run_dir / "rules" / "upload-exporter.yml"
        rules.parent.mkdir(parents=True, exist_ok=True)
        rules.write_text(f"# {source.name} of the upload exporter, instantiated for the demo.\n{text}")
        return rules


KINDS: dict[str, Kind] = {
    "flask": FlaskKind(),
    "flask-peer": FlaskPeerKind(),
    "sinatra": SinatraKind(),
    "dropwizard": DropwizardKind(),
    "exporter": ExporterKind(),
}

"""How each framework's example app in `examples/` is built and started.

A kind is available when its example and the binding it depends on are both in the
tree; the demo runs the apps whose kind is available and names the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

from apps import ROOT, App, BuildContext, Launch, ensure_venv, python_in_venv

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

    def available(self) -> bool:
        return self.example.is_dir() and self.requires.exists()

    @abstractmethod
    def build(self, ctx: BuildContext) -> None: ...

    @abstractmethod
    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch: ...

    def alert_rules(self) -> Path | None:
        """A rule file Prometheus should load for this app, if it ships one."""
        return None


class FlaskKind(Kind):
    """`examples/flask-app` under gunicorn with several workers, in the demo's venv."""

    example = EXAMPLES / "flask-app"
    requires = ROOT / "bindings-python" / "pyproject.toml"
    packages = ("python3-venv", "python3-dev")

    def build(self, ctx: BuildContext) -> None:
        python = ensure_venv(ctx)
        ctx.run([str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt"], cwd=self.example)

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        gunicorn = python_in_venv(ctx).parent / "gunicorn"
        argv = [str(gunicorn), "--config", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "app:app"]
        return Launch(argv, {**app.instance_env(index, port), **ctx.extra_env}, self.example)


class SinatraKind(Kind):
    """`examples/sinatra-app` under puma in cluster mode, on the gem's compiled extension."""

    example = EXAMPLES / "sinatra-app"
    binding = ROOT / "bindings-ruby"
    requires = binding / "Rakefile"
    packages = ("ruby", "ruby-dev", "rake", "ruby-rack", "ruby-sinatra", "puma", "libclang-dev")

    def build(self, ctx: BuildContext) -> None:
        ctx.run(["rake", "compile"], cwd=self.binding)

    def launch(self, ctx: BuildContext, app: App, index: int, port: int) -> Launch:
        env = {**app.instance_env(index, port), **ctx.extra_env, "RUBYLIB": str(self.binding / "lib")}
        return Launch(["puma", "--config", "puma.rb", "config.ru"], env, self.example)


class DropwizardKind(Kind):
    """`examples/dropwizard-app`, a shaded jar depending on the Java binding through Maven."""

    example = EXAMPLES / "dropwizard-app"
    binding = ROOT / "bindings-java"
    requires = binding / "pom.xml"
    packages = ("openjdk-17-jdk-headless", "maven")
    start_timeout = 180.0

    def available(self) -> bool:
        return super().available() and any(self.binding.rglob("MetricsBundle.java"))

    def build(self, ctx: BuildContext) -> None:
        # The binding's own tests run in `make test-java`; here it is only installed.
        ctx.run(["mvn", "-q", "-B", "install", "-DskipTests"], cwd=self.binding)
        ctx.run(["mvn", "-q", "-B", "package"], cwd=self.example)

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


KINDS: dict[str, Kind] = {
    "flask": FlaskKind(),
    "sinatra": SinatraKind(),
    "dropwizard": DropwizardKind(),
}

"""Code written for gds-metrics 0.2.4, copied unchanged, against this package: the README's
Flask app under gunicorn with the old config file, next to metrics defined with
`prometheus_client` (which 0.2.4 depended on) and with `gds_metrics.metrics`; the 0.2.4
hooks an app connected itself (a subclass overriding `init_app`, as real apps did); and
`prometheus_client`'s default registry in our scrape in one process, with a collector
that raises left out."""

import re

import pytest
from flask import Blueprint, Flask
from flask.signals import got_request_exception, request_finished

from gds_metrics import GDSMetrics, Registry

from servers import Gunicorn, raw_request, settled

# The README of gds-metrics 0.2.4, plus the two ways its apps defined their own metrics.
README_APP = '''\
from flask import Flask
from gds_metrics import GDSMetrics
from gds_metrics.metrics import Counter
from prometheus_client import Counter as PrometheusCounter

app = Flask(__name__)
metrics = GDSMetrics()
metrics.init_app(app)

EMAILS = Counter("emails_sent", "Emails sent.", ["template"])
LOGINS = PrometheusCounter("logins", "Logins.", ["outcome"])


@app.route("/")
def index():
    EMAILS.labels("welcome").inc()
    LOGINS.labels("ok").inc()
    return "hello"
'''

# 0.2.4's gunicorn config, as its README gave it.
README_CONFIG = "from gds_metrics.gunicorn import child_exit  # noqa\n"


def total(text, pattern):
    found = re.findall(pattern, text, re.M)
    return sum(float(value) for value in found)


@pytest.fixture
def readme_server(tmp_path):
    (tmp_path / "application.py").write_text(README_APP)
    (tmp_path / "gunicorn_config.py").write_text(README_CONFIG)
    server = Gunicorn(tmp_path, workers=4)
    yield server
    server.stop()


def test_the_old_readme_app_under_gunicorn_serves_every_workers_metrics_in_one_scrape(readme_server):
    for _ in range(39):  # and the one request that showed the server answers
        raw_request(readme_server.port, "GET", "/")

    def scrape():
        text = raw_request(readme_server.port, "GET", "/metrics")[2].decode()
        return text, [
            total(text, r'^http_server_requests_total\{[^}]*path="/",code="200"\} (\S+)$'),
            total(text, r'^emails_sent_total\{template="welcome"\} (\S+)$'),
            total(text, r'^logins_total\{outcome="ok"\} (\S+)$'),
        ]

    settled(lambda: scrape()[1], [40.0] * 3)
    text, totals = scrape()
    assert totals == [40.0] * 3
    for family in ("http_server_requests", "emails_sent", "logins"):
        assert text.count(f"# TYPE {family}_total counter") == 1, family


class DMGDSMetrics(GDSMetrics):
    """Copied from an app built on 0.2.4: it connects 0.2.4's hooks itself."""

    def init_app(self, app):
        app.before_request(self.before_request)
        request_finished.connect(self.teardown_request, sender=app)
        got_request_exception.connect(self.handle_exception, sender=app)


def test_apps_that_connected_the_old_hooks_themselves_still_record_and_serve():
    registry = Registry()
    metrics_blueprint = Blueprint("metrics", __name__)
    gds_metrics = DMGDSMetrics(registry=registry)
    metrics_blueprint.add_url_rule(gds_metrics.metrics_path, "metrics", gds_metrics.metrics_endpoint)

    app = Flask(__name__)
    app.register_blueprint(metrics_blueprint)
    gds_metrics.init_app(app)

    @app.route("/users/<int:user_id>")
    def user(user_id):
        return "user"

    @app.route("/boom")
    def boom():
        raise ZeroDivisionError

    client = app.test_client()
    client.get("/users/1")
    assert client.get("/boom").status_code == 500
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_server_requests_total{method="GET",host="localhost",path="/users/<int:user_id>",code="200"} 1.0' in text
    assert 'http_server_requests_total{method="GET",host="localhost",path="/boom",code="500"} 1.0' in text
    assert 'http_server_exceptions_total{error="ZeroDivisionError"} 1.0' in text
    # The scrape was recorded once, by the core, not again by the request_finished hook.
    assert 'http_server_requests_total{method="GET",host="localhost",path="/metrics",code="200"} 1.0' in text


def test_prometheus_client_metrics_join_our_scrape_and_a_failing_collector_is_left_out(caplog):
    import prometheus_client

    class Broken:
        def describe(self):
            return []

        def collect(self):
            raise RuntimeError("broken collector")

    mixed = prometheus_client.Counter("mixed_jobs", "Jobs.", ["queue"])
    mixed.labels("email").inc(3)
    broken = Broken()
    prometheus_client.REGISTRY.register(broken)
    try:
        app = Flask(__name__)
        GDSMetrics().init_app(app)
        response = app.test_client().get("/metrics")
    finally:
        prometheus_client.REGISTRY.unregister(broken)
        prometheus_client.REGISTRY.unregister(mixed)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'mixed_jobs_total{queue="email"} 3.0' in text
    assert "# TYPE http_server_requests_total counter" in text
    assert "prometheus_client collector raised" in caplog.text


def test_a_family_defined_in_both_libraries_is_served_once_with_a_warning():
    import prometheus_client

    from gds_metrics.metrics import Counter

    ours = Counter("twice_defined", "Ours.")
    ours.inc()
    theirs = prometheus_client.Counter("twice_defined", "Theirs.")
    theirs.inc(5)
    try:
        app = Flask(__name__)
        GDSMetrics().init_app(app)
        with pytest.warns(RuntimeWarning, match="twice_defined"):
            text = app.test_client().get("/metrics").get_data(as_text=True)
    finally:
        prometheus_client.REGISTRY.unregister(theirs)
    assert text.count("# TYPE twice_defined_total counter") == 1
    assert "twice_defined_total 1.0\n" in text


def test_prometheus_client_enums_are_served_as_state_sets():
    import prometheus_client

    from gds_metrics._native import default_registry

    theirs = prometheus_client.Enum("legacy_worker_state", "State.", ["queue"], states=["idle", "busy"])
    theirs.labels("mail").state("busy")
    try:
        openmetrics = default_registry().render(openmetrics=True).decode()
        text = default_registry().render().decode()
    finally:
        prometheus_client.REGISTRY.unregister(theirs)
    samples = (
        'legacy_worker_state{queue="mail",legacy_worker_state="idle"} 0.0\n'
        'legacy_worker_state{queue="mail",legacy_worker_state="busy"} 1.0\n'
    )
    assert "# TYPE legacy_worker_state stateset\n" + samples in openmetrics
    assert "# TYPE legacy_worker_state gauge\n" + samples in text

"""The Flask extension at the HTTP level, through Flask's test client."""

import gzip

import pytest
from flask import Flask, abort

from gds_metrics import GDSMetrics, Registry

from conftest import TRACED_FAMILIES, TRACEPARENT, families_traced

GUID = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8"
TEXT = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("VCAP_APPLICATION", "METRICS_BASIC_AUTH", "PROMETHEUS_METRICS_PATH", "CF_INSTANCE_INDEX"):
        monkeypatch.delenv(name, raising=False)


def make_app(**settings):
    app = Flask(__name__)

    @app.route("/")
    def index():
        return "hello"

    @app.route("/users/<int:user_id>")
    def user(user_id):
        return f"user {user_id}"

    @app.route("/divide")
    def divide():
        return str(1 / 0)

    @app.route("/gone")
    def gone():
        abort(410)

    registry = Registry()
    metrics = GDSMetrics(registry=registry, **settings)
    metrics.init_app(app)
    return app, registry


def requests_line(path, code, method="GET", count="1.0"):
    return f'http_server_requests_total{{method="{method}",host="localhost",path="{path}",code="{code}"}} {count}\n'


def test_scrape_without_auth_configured_answers_text_format():
    app, registry = make_app()
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == TEXT
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Vary"] == "Accept, Accept-Encoding"
    assert "# TYPE http_server_requests_total counter\n" in response.get_data(as_text=True)


def test_missing_token_is_unauthorized():
    app, _ = make_app(application_id=GUID)
    response = app.test_client().get("/metrics")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert GUID not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "authorization",
    ["Bearer wrong", f"Basic {GUID}", GUID, f"Bearer {GUID}x", f"Bearer {GUID},Bearer {GUID}", "Bearer ünïcode",
     "Bearer " + "x" * 100_000],
)
def test_wrong_or_hostile_token_is_forbidden(authorization):
    app, _ = make_app(application_id=GUID)
    response = app.test_client().get("/metrics", headers={"Authorization": authorization})
    assert response.status_code == 403
    assert GUID not in response.get_data(as_text=True)


@pytest.mark.parametrize("authorization", [f"Bearer {GUID}", f"bearer {GUID}", f"  BEARER {GUID}  "])
def test_right_token_is_allowed(authorization):
    app, _ = make_app(application_id=GUID)
    response = app.test_client().get("/metrics", headers={"Authorization": authorization})
    assert response.status_code == 200


def test_guid_from_vcap_application_turns_auth_on(monkeypatch):
    monkeypatch.setenv("VCAP_APPLICATION", f'{{"application_id": "{GUID}", "name": "app"}}')
    app, _ = make_app()
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {GUID}"}).status_code == 200


def test_auth_switched_off_by_environment(monkeypatch):
    monkeypatch.setenv("VCAP_APPLICATION", f'{{"application_id": "{GUID}"}}')
    monkeypatch.setenv("METRICS_BASIC_AUTH", "False")
    app, _ = make_app()
    assert app.test_client().get("/metrics").status_code == 200


def test_auth_switched_off_in_code_wins_over_environment(monkeypatch):
    monkeypatch.setenv("VCAP_APPLICATION", f'{{"application_id": "{GUID}"}}')
    app, _ = make_app(auth_enabled=False)
    assert app.test_client().get("/metrics").status_code == 200


@pytest.mark.parametrize(
    "variable, value",
    [("VCAP_APPLICATION", "not json"), ("VCAP_APPLICATION", "{}"), ("METRICS_BASIC_AUTH", "1"),
     ("PROMETHEUS_METRICS_PATH", "metrics")],
)
def test_bad_configuration_is_a_value_error_naming_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        GDSMetrics(registry=Registry())


def test_metrics_path_from_environment(monkeypatch):
    monkeypatch.setenv("PROMETHEUS_METRICS_PATH", "/internal/metrics")
    app, registry = make_app()
    client = app.test_client()
    assert client.get("/internal/metrics").status_code == 200
    assert client.get("/metrics").status_code == 404
    assert requests_line("No endpoint", "404") in registry.render().decode()


def test_metrics_path_in_code_and_no_trailing_slash_variant():
    app, _ = make_app(metrics_path="/ops/metrics")
    client = app.test_client()
    assert client.get("/ops/metrics").status_code == 200
    assert client.get("/ops/metrics/").status_code == 404


def test_gzip_when_accepted():
    app, _ = make_app()
    response = app.test_client().get("/metrics", headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"# TYPE http_server_requests_total counter\n" in gzip.decompress(response.get_data())


def test_no_gzip_when_refused_with_q_zero():
    app, _ = make_app()
    response = app.test_client().get("/metrics", headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in response.headers


def test_openmetrics_when_it_ranks_highest():
    app, _ = make_app()
    accept = "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5"
    response = app.test_client().get("/metrics", headers={"Accept": accept})
    assert response.headers["Content-Type"] == OPENMETRICS
    assert response.get_data(as_text=True).endswith("# EOF\n")


def test_head_answers_without_a_body():
    app, _ = make_app()
    response = app.test_client().head("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == TEXT
    assert response.get_data() == b""


def test_other_methods_are_not_allowed():
    app, _ = make_app()
    response = app.test_client().post("/metrics")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"


def test_requests_are_counted_by_route_template():
    app, registry = make_app()
    client = app.test_client()
    client.get("/users/1")
    client.get("/users/2")
    client.get("/")
    text = registry.render().decode()
    assert requests_line("/users/<int:user_id>", "200", count="2.0") in text
    assert requests_line("/", "200") in text
    assert "/users/1" not in text
    assert (
        'http_server_request_duration_seconds_count{method="GET",host="localhost",'
        'path="/users/<int:user_id>",code="200"} 2.0\n'
    ) in text


def test_unmatched_requests_are_counted_as_no_endpoint():
    app, registry = make_app()
    app.test_client().get("/nothing/here/42")
    text = registry.render().decode()
    assert requests_line("No endpoint", "404") in text
    assert "/nothing/here" not in text


def test_aborted_requests_keep_their_route_and_status():
    app, registry = make_app()
    app.test_client().get("/gone")
    assert requests_line("/gone", "410") in registry.render().decode()


@pytest.mark.parametrize("propagate", [False, True])
def test_unhandled_exceptions_are_counted_by_class_and_as_500(propagate):
    app, registry = make_app()
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    client = app.test_client()
    if propagate:
        with pytest.raises(ZeroDivisionError):
            client.get("/divide")
    else:
        assert client.get("/divide").status_code == 500
    text = registry.render().decode()
    assert 'http_server_exceptions_total{error="ZeroDivisionError"} 1.0\n' in text
    assert requests_line("/divide", "500") in text


def test_scrapes_are_counted_rejected_ones_included():
    app, registry = make_app(application_id=GUID)
    client = app.test_client()
    client.get("/metrics")
    client.get("/metrics", headers={"Authorization": f"Bearer {GUID}"})
    text = registry.render().decode()
    assert requests_line("/metrics", "401") in text
    assert requests_line("/metrics", "200") in text


def test_request_method_is_upper_case_and_host_as_sent():
    app, registry = make_app()
    app.test_client().options("/", headers={"Host": "Example.COM:8080"})
    assert (
        'http_server_requests_total{method="OPTIONS",host="Example.COM:8080",path="/",code="200"} 1.0\n'
        in registry.render().decode()
    )


def test_app_factories_each_get_their_own_settings_and_share_the_request_metrics(monkeypatch):
    registry = Registry()
    apps = []
    for guid, auth in ((GUID, "true"), (GUID, "false"), ("00000000-0000-0000-0000-000000000000", "true")):
        monkeypatch.setenv("VCAP_APPLICATION", f'{{"application_id": "{guid}"}}')
        monkeypatch.setenv("METRICS_BASIC_AUTH", auth)
        app = Flask(f"app-{len(apps)}")
        GDSMetrics(registry=registry).init_app(app)
        apps.append(app)
    monkeypatch.delenv("VCAP_APPLICATION")
    bearer = {"Authorization": f"Bearer {GUID}"}
    assert [app.test_client().get("/metrics").status_code for app in apps] == [401, 200, 401]
    assert [app.test_client().get("/metrics", headers=bearer).status_code for app in apps] == [200, 200, 403]
    text = registry.render().decode()
    assert text.count("# TYPE http_server_requests_total counter") == 1
    # On the PaaS without routes in VCAP_APPLICATION, every Host is `other`.
    assert 'http_server_requests_total{method="GET",host="other",path="/metrics",code="200"} 3.0\n' in text


def test_custom_metrics_are_served_with_the_request_metrics():
    from gds_metrics.metrics import Counter

    app, registry = make_app()
    Counter("emails_sent", "Emails sent.", ["template"], registry=registry).labels("welcome").inc()
    text = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'emails_sent_total{template="welcome"} 1.0\n' in text


def test_a_sampled_traceparent_is_the_exemplar_of_the_request():
    app, registry = make_app()
    app.test_client().get("/users/7", headers={"traceparent": TRACEPARENT})
    assert families_traced(registry.render(openmetrics=True).decode(), "/users/<int:user_id>") == TRACED_FAMILIES


def test_a_scrape_with_a_sampled_traceparent_is_traced_too():
    app, registry = make_app()
    app.test_client().get("/metrics", headers={"traceparent": TRACEPARENT})
    assert families_traced(registry.render(openmetrics=True).decode(), "/metrics") == TRACED_FAMILIES

"""The plain WSGI middleware, for apps that are not Flask."""

import functools

import pytest
from werkzeug.test import Client

from gds_metrics import ConfigurationError, Registry
from gds_metrics.wsgi import ROUTE_KEY, GDSMetricsMiddleware

from conftest import TRACED_FAMILIES, TRACEPARENT, families_traced
from protobuf_wire import request_histogram

GUID = "6f1e3c2a-9b4d-4e8f-a1b2-c3d4e5f6a7b8"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("VCAP_APPLICATION", "METRICS_BASIC_AUTH", "PROMETHEUS_METRICS_PATH", "METRICS_REQUEST_NATIVE_HISTOGRAM"):
        monkeypatch.delenv(name, raising=False)


def plain_app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/boom":
        raise RuntimeError("broken")
    if path.startswith("/orders/"):
        environ[ROUTE_KEY] = "/orders/{order_id}"
    status = "404 Not Found" if path == "/missing" else "200 OK"
    start_response(status, [("Content-Type", "text/plain")])
    return [b"body of ", path.encode()]


def wrapped(**settings):
    registry = Registry()
    # buffered: read the whole body and close it, as a WSGI server does.
    client = Client(GDSMetricsMiddleware(plain_app, registry=registry, **settings))
    client.get = functools.partial(client.get, buffered=True)
    client.head = functools.partial(client.head, buffered=True)
    return client, registry


def line(path, code, count="1.0"):
    return f'http_server_requests_total{{method="GET",host="localhost",path="{path}",code="{code}"}} {count}\n'


def test_other_paths_reach_the_app_untouched():
    client, _ = wrapped(application_id=GUID)
    response = client.get("/hello")
    assert response.status_code == 200
    assert response.get_data() == b"body of /hello"
    assert "Vary" not in response.headers


def test_scrape_is_answered_by_the_endpoint_with_auth():
    client, _ = wrapped(application_id=GUID)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 403
    response = client.get("/metrics", headers={"Authorization": f"Bearer {GUID}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.get_data())


def test_ids_and_uuids_are_collapsed_without_a_router():
    client, registry = wrapped()
    client.get("/users/42/files/6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c")
    assert line("/users/:id/files/:uuid", "200") in registry.render().decode()


def test_app_can_name_its_route_template():
    client, registry = wrapped()
    client.get("/orders/17")
    client.get("/orders/18")
    assert line("/orders/{order_id}", "200", count="2.0") in registry.render().decode()


def test_status_comes_from_the_app():
    client, registry = wrapped()
    client.get("/missing")
    assert line("No endpoint", "404") in registry.render().decode()


def test_exceptions_are_counted_and_the_request_is_a_500():
    client, registry = wrapped()
    with pytest.raises(RuntimeError):
        client.get("/boom")
    text = registry.render().decode()
    assert 'http_server_exceptions_total{error="RuntimeError"} 1.0\n' in text
    assert line("/boom", "500") in text


def test_head_scrape_has_no_body_and_no_length():
    client, _ = wrapped()
    response = client.head("/metrics")
    assert response.status_code == 200
    assert response.get_data() == b""


def test_a_sampled_traceparent_is_the_exemplar_of_the_request():
    client, registry = wrapped()
    client.get("/orders/17", headers={"traceparent": TRACEPARENT})
    assert families_traced(registry.render(openmetrics=True).decode(), "/orders/{order_id}") == TRACED_FAMILIES


@pytest.mark.parametrize("header", [TRACEPARENT.replace("-01", "-00"), "00-garbage", "x" * 10_000])
def test_unsampled_or_malformed_traceparent_gives_no_exemplar_and_no_error(header):
    client, registry = wrapped()
    assert client.get("/orders/17", headers={"traceparent": header}).status_code == 200
    text = registry.render(openmetrics=True).decode()
    assert "trace_id" not in text
    assert 'http_server_requests_total{method="GET",host="localhost",path="/orders/{order_id}",code="200"} 1.0' in text


def test_trace_exemplars_switched_off_in_code(monkeypatch):
    monkeypatch.setenv("METRICS_TRACE_EXEMPLARS", "true")
    client, registry = wrapped(trace_exemplars=False)
    client.get("/orders/17", headers={"traceparent": TRACEPARENT})
    assert "trace_id" not in registry.render(openmetrics=True).decode()


def test_trace_exemplars_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("METRICS_TRACE_EXEMPLARS", "FALSE")
    client, registry = wrapped()
    client.get("/orders/17", headers={"traceparent": TRACEPARENT})
    assert "trace_id" not in registry.render(openmetrics=True).decode()


def test_a_bad_trace_exemplars_switch_is_a_configuration_error_naming_it(monkeypatch):
    monkeypatch.setenv("METRICS_TRACE_EXEMPLARS", "1")
    with pytest.raises(ConfigurationError, match="METRICS_TRACE_EXEMPLARS"):
        wrapped()


PROTOBUF = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"


def request_duration_is_native(client):
    body = client.get("/metrics", headers={"Accept": PROTOBUF}).get_data()
    return request_histogram(body, "http_server_request_duration_seconds")["native"] is not None


def test_the_request_duration_keeps_native_buckets_by_default():
    client, _ = wrapped()
    client.get("/orders/17", headers={"traceparent": TRACEPARENT})
    assert request_duration_is_native(client)


def test_native_buckets_switched_off_by_the_environment_and_in_code(monkeypatch):
    monkeypatch.setenv("METRICS_REQUEST_NATIVE_HISTOGRAM", "False")
    client, _ = wrapped()
    client.get("/orders/17")
    assert not request_duration_is_native(client)
    monkeypatch.setenv("METRICS_REQUEST_NATIVE_HISTOGRAM", "true")
    client, _ = wrapped(request_native_histogram=False)
    client.get("/orders/17")
    assert not request_duration_is_native(client)


def test_endpoints_of_one_registry_disagreeing_on_native_buckets_is_a_configuration_error():
    registry = Registry()
    GDSMetricsMiddleware(plain_app, registry=registry)
    with pytest.raises(ConfigurationError, match="request_native_histogram"):
        GDSMetricsMiddleware(plain_app, registry=registry, request_native_histogram=False)


def test_a_bad_native_buckets_switch_is_a_configuration_error_naming_it(monkeypatch):
    monkeypatch.setenv("METRICS_REQUEST_NATIVE_HISTOGRAM", "off")
    with pytest.raises(ConfigurationError, match="METRICS_REQUEST_NATIVE_HISTOGRAM"):
        wrapped()

"""When a Flask request is counted: once, by the time its body has been read in full,
closed, or failed to send, whichever comes first. First gds-metrics 0.2.4's own tests,
written as its suite writes them (Flask's test client in a `with` block, the response
never read nor closed), checked against the scrape instead of 0.2.4's module globals;
then a buffered and a streamed body, a response abandoned to the garbage collector, and
under a real gunicorn a client that reads the whole body and one that disconnects
mid-body."""

import gc
import re
import socket
import struct
import time
from unittest.mock import Mock

import pytest
from flask import Flask, Response

from gds_metrics import GDSMetrics, Registry

from servers import Gunicorn, raw_request, settled

FAKE_APP_ID = "123"
SLOW_REQUEST_DURATION = 0.1
VALID_AUTH_HEADER = "Authorization", "Bearer {}".format(FAKE_APP_ID)


def chunks():
    for _ in range(3):
        yield b"chunk "


def make_app():
    flask_app = Flask(__name__)

    @flask_app.route("/")
    def index():
        return "index"

    @flask_app.route("/slow_request")
    def slow_request():
        time.sleep(SLOW_REQUEST_DURATION)
        return "slow request"

    @flask_app.route("/exception")
    def exception():
        raise Exception()

    @flask_app.route("/stream")
    def stream():
        return Response(chunks())

    return flask_app


# 0.2.4's fixtures: an app context pushed, the app GUID in VCAP_APPLICATION, and the
# test client entered in a `with` block inside a test request context.
@pytest.fixture
def app(monkeypatch):
    flask_app = make_app()
    ctx = flask_app.app_context()
    ctx.push()
    monkeypatch.setenv("VCAP_APPLICATION", '{"application_id": "' + FAKE_APP_ID + '"}')
    yield flask_app
    ctx.pop()


@pytest.fixture
def registry():
    return Registry()


@pytest.fixture(scope="function")
def client(app, registry):
    with app.test_request_context(), app.test_client() as client:
        metrics = GDSMetrics(registry=registry)
        metrics.init_app(app)

        yield client


def series(registry, family):
    """`{labels: value}` of one family in the scrape."""
    text = registry.render().decode()
    return {labels: float(value) for labels, value in re.findall(rf"^{family}\{{(.*)\}} (\S+)$", text, re.M)}


def labels(path, code, host="localhost"):
    return f'method="GET",host="{host}",path="{path}",code="{code}"'


# --- gds-metrics 0.2.4's tests ----------------------------------------------------------


def paas(path, code):
    # VCAP_APPLICATION lists no routes, so every Host is `other` on the PaaS.
    return labels(path, code, host="other")


def test_calls_histogram_observe(client, registry):
    client.get(
        '/slow_request',
        headers=[(VALID_AUTH_HEADER)]
    )
    assert series(registry, "http_server_request_duration_seconds_count") == {paas("/slow_request", "200"): 1.0}
    # At least the time the view slept (0.2.4 checked an upper bound too, which a loaded
    # machine breaks).
    assert series(registry, "http_server_request_duration_seconds_sum")[paas("/slow_request", "200")] > SLOW_REQUEST_DURATION


def test_requests_increases_request_counter(client, registry):
    client.get(
        '/',
        headers=[(VALID_AUTH_HEADER)]
    )
    assert series(registry, "http_server_requests_total") == {paas("/", "200"): 1.0}


def test_exception_increases_exception_counter(client, registry):
    response = client.get(
        '/exception',
        headers=[(VALID_AUTH_HEADER)]
    )
    assert response.status_code == 500
    assert series(registry, "http_server_exceptions_total") == {'error="Exception"': 1.0}
    assert series(registry, "http_server_requests_total") == {paas("/exception", "500"): 1.0}


def test_teardown_requests_doesnt_record_duration_metric_if_gds_metrics_start_time_not_set():
    app = Flask(__name__)
    registry = Registry()
    with app.test_request_context():
        gds_metrics = GDSMetrics(registry=registry)

        gds_metrics.teardown_request(sender=Mock(), response=Mock(status_code=200))

        assert series(registry, "http_server_requests_total") == {labels("No endpoint", "200"): 1.0}
        # Without a start time no time is measured: observed as zero seconds.
        assert series(registry, "http_server_request_duration_seconds_sum") == {labels("No endpoint", "200"): 0.0}


# --- every way a test or a server consumes the body -------------------------------------


def test_a_response_left_unread_and_unclosed_is_counted():
    app, registry = make_app(), Registry()
    GDSMetrics(registry=registry).init_app(app)
    response = app.test_client().get("/")
    assert series(registry, "http_server_requests_total") == {labels("/", "200"): 1.0}
    assert response.get_data() == b"index"
    response.close()
    assert series(registry, "http_server_requests_total") == {labels("/", "200"): 1.0}


def test_a_buffered_response_is_counted_once():
    app, registry = make_app(), Registry()
    GDSMetrics(registry=registry).init_app(app)
    client = app.test_client()
    client.get("/", buffered=True)
    assert client.get("/exception", buffered=True).status_code == 500
    assert series(registry, "http_server_requests_total") == {labels("/", "200"): 1.0, labels("/exception", "500"): 1.0}
    assert series(registry, "http_server_exceptions_total") == {'error="Exception"': 1.0}


def test_a_streamed_body_is_counted_once_read_to_its_end():
    app, registry = make_app(), Registry()
    GDSMetrics(registry=registry).init_app(app)
    with app.test_client() as client:
        response = client.get("/stream")
        assert series(registry, "http_server_requests_total") == {}
        assert response.get_data() == b"chunk " * 3
        assert series(registry, "http_server_requests_total") == {labels("/stream", "200"): 1.0}
    response.close()
    assert series(registry, "http_server_requests_total") == {labels("/stream", "200"): 1.0}


def test_a_streamed_body_abandoned_keeps_the_apps_status_and_counts_no_exception():
    app, registry = make_app(), Registry()
    GDSMetrics(registry=registry).init_app(app)
    response = app.test_client().get("/stream")
    del response
    gc.collect()
    assert series(registry, "http_server_requests_total") == {labels("/stream", "200"): 1.0}
    assert series(registry, "http_server_exceptions_total") == {}


# --- under gunicorn ---------------------------------------------------------------------

GUNICORN_APP = '''\
from flask import Flask, Response, request
from gds_metrics import GDSMetrics

app = Flask(__name__)
GDSMetrics().init_app(app)

CHUNK = b"x" * 65536


@app.route("/")
def index():
    return "index"


@app.route("/stream")
def stream():
    chunks = int(request.args["chunks"])

    def body():
        for _ in range(chunks):
            yield CHUNK

    return Response(body())
'''


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("recording")
    (workdir / "application.py").write_text(GUNICORN_APP)
    (workdir / "gunicorn_config.py").write_text("from gds_metrics.gunicorn import child_exit\n")
    server = Gunicorn(workdir, workers=1)
    yield server
    server.stop()


def scraped(server, family):
    body = raw_request(server.port, "GET", "/metrics")[2].decode()
    return {labels: float(value) for labels, value in re.findall(rf"^{family}\{{(.*)\}} (\S+)$", body, re.M)}


def stream_key(server):
    return f'method="GET",host="127.0.0.1:{server.port}",path="/stream",code="200"'


def stream_count(server):
    return scraped(server, "http_server_requests_total").get(stream_key(server), 0.0)


def test_under_gunicorn_a_streamed_body_read_to_its_end_is_counted(gunicorn):
    before = stream_count(gunicorn)
    status, _, body = raw_request(gunicorn.port, "GET", "/stream?chunks=16")
    assert status == 200 and len(body) == 16 * 65536
    assert settled(lambda: stream_count(gunicorn), before + 1) == before + 1


def test_under_gunicorn_a_client_gone_mid_body_keeps_the_apps_status_and_counts_no_exception(gunicorn):
    before = stream_count(gunicorn)
    with socket.create_connection(("127.0.0.1", gunicorn.port), timeout=10) as connection:
        # 64 MiB: far more than the socket buffers hold, so the server is still sending.
        connection.sendall(f"GET /stream?chunks=1024 HTTP/1.1\r\nHost: 127.0.0.1:{gunicorn.port}\r\n\r\n".encode())
        assert connection.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
        # Reset, not a polite close: the server's next send fails at once.
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    assert settled(lambda: stream_count(gunicorn), before + 1) == before + 1
    text = raw_request(gunicorn.port, "GET", "/metrics")[2].decode()
    assert "http_server_exceptions_total{" not in text
    assert "GeneratorExit" not in text

"""The Django middleware through Django's test client and under a real gunicorn: route
patterns from `resolver_match.route`, 404s as `No endpoint`, view exceptions counted, a
streaming response timed to its end, and only the exact metrics path served."""

import os
import re
import secrets
import shutil
import sys
from pathlib import Path

import pytest

from conftest import OPENMETRICS_ACCEPT, TRACED_FAMILIES, TRACEPARENT, families_traced
from servers import Gunicorn, raw_request, settled

SITE = Path(__file__).parent / "django_site"


@pytest.fixture(scope="module")
def client():
    for name in ("VCAP_APPLICATION", "METRICS_BASIC_AUTH", "PROMETHEUS_METRICS_PATH"):
        os.environ.pop(name, None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "django_site.settings"
    sys.path.insert(0, str(SITE.parent))
    import django
    from django.test import Client

    django.setup()
    return Client(raise_request_exception=False)


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200 and response["cache-control"] == "no-store"
    return response.content.decode()


def count(text, path, code):
    found = re.search(
        rf'^http_server_requests_total\{{method="GET",host="[^"]*",path="{re.escape(path)}",code="{code}"\}} (\S+)$',
        text,
        re.M,
    )
    return float(found.group(1)) if found else 0.0


def test_requests_are_labelled_by_the_url_pattern(client):
    before = count(scrape(client), "users/<int:user_id>", "200")
    client.get("/users/7").close()
    client.get("/users/8").close()
    text = scrape(client)
    assert count(text, "users/<int:user_id>", "200") == before + 2
    assert "/users/7" not in text


def test_unmatched_requests_are_no_endpoint(client):
    before = count(scrape(client), "No endpoint", "404")
    client.get("/wp-login.php").close()
    assert count(scrape(client), "No endpoint", "404") == before + 1


def test_view_exceptions_are_counted_and_a_500(client):
    response = client.get("/boom")
    response.close()
    assert response.status_code == 500
    text = scrape(client)
    assert count(text, "boom", "500") >= 1
    assert re.search(r'^http_server_exceptions_total\{error="ZeroDivisionError"\} [1-9]', text, re.M)


def test_streaming_responses_are_timed_to_their_end(client):
    response = client.get("/stream")
    assert b"".join(response.streaming_content) == b"chunk " * 3
    response.close()
    text = scrape(client)
    total = re.search(r'^http_server_request_duration_seconds_sum\{[^}]*path="stream"[^}]*\} (\S+)$', text, re.M)
    assert total and float(total.group(1)) >= 0.3


@pytest.fixture(scope="module")
def gunicorn(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("django")
    shutil.copytree(SITE, workdir / "django_site")
    (workdir / "gunicorn_config.py").write_text("from gds_metrics.gunicorn import child_exit\n")
    server = Gunicorn(workdir, workers=2, app="django_site.wsgi:application")
    yield server
    server.stop()


@pytest.mark.parametrize("target", ["/%6detrics", "//metrics", "/./metrics", "/x/../metrics", "/metrics/"])
def test_under_gunicorn_only_the_exact_path_is_the_endpoint(gunicorn, target):
    status, headers, _ = raw_request(gunicorn.port, "GET", target)
    assert "cache-control" not in headers
    assert status in (404, 301)


def test_under_gunicorn_every_worker_is_in_the_scrape(gunicorn):
    for _ in range(20):
        assert raw_request(gunicorn.port, "GET", "/users/1")[0] == 200

    def total():
        _, _, body = raw_request(gunicorn.port, "GET", "/metrics")
        found = re.search(rb'^http_server_requests_total\{[^}]*path="users/<int:user_id>",code="200"\} (\S+)$', body, re.M)
        return float(found.group(1)) if found else 0.0

    assert settled(total, 20.0) == 20.0


def test_a_sampled_traceparent_is_the_exemplar_of_the_request(client):
    client.get("/users/7", HTTP_TRACEPARENT=TRACEPARENT).close()
    text = client.get("/metrics", HTTP_ACCEPT=OPENMETRICS_ACCEPT).content.decode()
    assert families_traced(text, "users/<int:user_id>") == TRACED_FAMILIES


def test_under_gunicorn_every_worker_shows_the_trace_of_any_worker(gunicorn):
    """Exemplars live in the multi-process files: whichever worker answers the scrape
    shows the trace another worker recorded."""
    traces = [(secrets.token_hex(16), secrets.token_hex(8)) for _ in range(6)]
    for trace_id, span_id in traces:
        headers = [("traceparent", f"00-{trace_id}-{span_id}-01")]
        assert raw_request(gunicorn.port, "GET", "/users/3", headers)[0] == 200

    def shown():
        """The traces sent that are the exemplar of both request families."""
        _, _, body = raw_request(gunicorn.port, "GET", "/metrics", [("Accept", OPENMETRICS_ACCEPT)])
        text = body.decode()
        return [t for t in traces if families_traced(text, "users/<int:user_id>", *t) == TRACED_FAMILIES]

    # A series takes one trace per clock tick, so which of the six is kept depends on
    # timing; that every worker shows the same one does not.
    assert settled(lambda: bool(shown()), True), "no trace sent is the exemplar of both families"
    first = shown()
    assert [shown() for _ in range(6)] == [first] * 6

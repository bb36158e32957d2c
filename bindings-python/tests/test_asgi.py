"""The ASGI middleware under a real uvicorn, in front of Starlette and FastAPI apps: route
templates from the router, streaming responses timed to their end, exceptions, the exact
metrics path, and a lifespan that still runs."""

import re
import secrets

import pytest

from conftest import OPENMETRICS_ACCEPT, TRACED_FAMILIES, families_traced
from servers import Uvicorn, raw_request, settled

APP = '''\
import asyncio

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from gds_metrics.asgi import GDSMetricsMiddleware

STARTED = []


async def chunks():
    for _ in range(3):
        await asyncio.sleep(0.1)
        yield b"chunk "


async def user(request):
    return PlainTextResponse("user " + request.path_params["user_id"])


async def stream(request):
    return StreamingResponse(chunks())


async def boom(request):
    raise RuntimeError("broken")


async def started(request):
    return PlainTextResponse(str(bool(STARTED)))


async def lifespan(app):
    STARTED.append(True)
    yield


starlette_app = Starlette(
    routes=[
        Route("/users/{user_id}", user),
        Route("/stream", stream),
        Route("/boom", boom),
        Route("/", started),
    ],
    lifespan=lifespan,
)
starlette_app.add_middleware(GDSMetricsMiddleware)

fastapi_app = FastAPI(lifespan=lifespan)
fastapi_app.add_middleware(GDSMetricsMiddleware)


@fastapi_app.get("/users/{user_id}")
async def fastapi_user(user_id: int):
    return {"user": user_id}


@fastapi_app.get("/stream")
async def fastapi_stream():
    return StreamingResponse(chunks())


@fastapi_app.get("/boom")
async def fastapi_boom():
    raise RuntimeError("broken")


@fastapi_app.get("/")
async def fastapi_started():
    return PlainTextResponse(str(bool(STARTED)))
'''


@pytest.fixture(scope="module", params=["starlette_app", "fastapi_app"])
def server(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("asgi")
    (workdir / "application.py").write_text(APP)
    running = Uvicorn(workdir, app=f"application:{request.param}")
    yield running
    running.stop()


def get(server, target):
    return raw_request(server.port, "GET", target)


def scrape(server):
    status, headers, body = get(server, "/metrics")
    assert status == 200 and headers["cache-control"] == "no-store"
    return body.decode()


def scrape_showing(server, needle):
    """A scrape once it shows `needle`: a request is recorded when the app is done, a
    moment after the client has read the response."""
    texts = []

    def shows():
        texts.append(scrape(server))
        return needle in texts[-1]

    settled(shows, True)
    return texts[-1]


def line(server, path, code, count="1.0"):
    return f'http_server_requests_total{{method="GET",host="127.0.0.1:{server.port}",path="{path}",code="{code}"}} {count}'


def test_the_lifespan_ran(server):
    assert get(server, "/")[2] == b"True"


def test_requests_are_labelled_by_route_template(server):
    assert get(server, "/users/42")[0] == 200
    text = scrape_showing(server, line(server, "/users/{user_id}", "200"))
    assert line(server, "/users/{user_id}", "200") in text
    assert "/users/42" not in text


def test_streaming_responses_are_timed_to_their_end(server):
    assert get(server, "/stream")[2] == b"chunk " * 3
    text = scrape_showing(server, 'path="/stream",code="200"')
    host = f"127.0.0.1:{server.port}"
    total = re.search(
        rf'^http_server_request_duration_seconds_sum\{{method="GET",host="{re.escape(host)}",path="/stream",code="200"\}} (\S+)$',
        text,
        re.M,
    )
    assert total and float(total.group(1)) >= 0.3


def test_unhandled_exceptions_are_a_500_and_counted(server):
    assert get(server, "/boom")[0] == 500
    text = scrape_showing(server, 'http_server_exceptions_total{error="RuntimeError"} 1.0')
    assert line(server, "/boom", "500") in text
    assert 'http_server_exceptions_total{error="RuntimeError"} 1.0' in text


@pytest.mark.parametrize("target", ["/%6detrics", "//metrics", "/./metrics", "/x/../metrics", "/metrics/"])
def test_only_the_exact_path_is_the_endpoint(server, target):
    status, headers, _ = get(server, target)
    assert "cache-control" not in headers
    assert status in (404, 307)


def test_unmatched_requests_are_no_endpoint(server):
    before = scrape(server)
    unmatched = line(server, "No endpoint", "404", count="")

    def count(text):
        return float(text.split(unmatched, 1)[1].split("\n", 1)[0]) if unmatched in text else 0.0

    assert get(server, "/nothing/here")[0] == 404
    expected = count(before) + 1
    assert settled(lambda: count(scrape(server)), expected) == expected
    after = scrape(server)
    assert "/nothing/here" not in after


def test_a_sampled_traceparent_is_the_exemplar_of_the_request(server):
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    headers = [("traceparent", f"00-{trace_id}-{span_id}-01")]
    assert raw_request(server.port, "GET", "/users/42", headers)[0] == 200

    def traced():
        _, _, body = raw_request(server.port, "GET", "/metrics", [("Accept", OPENMETRICS_ACCEPT)])
        return families_traced(body.decode(), "/users/{user_id}", trace_id, span_id)

    assert settled(traced, TRACED_FAMILIES) == TRACED_FAMILIES

"""The shared conformance vectors (core/tests/vectors/*.json) through the public Python API:
the endpoint through the Flask extension and the WSGI middleware in process (with the
environ a real server builds, `RAW_URI` included), and through every integration under a
real server (Flask, WSGI and Django under gunicorn; the ASGI middleware and Django under
uvicorn) with the request target sent byte for byte, never decoded; request facts through
the native record call; metric errors and series limits through `gds_metrics.metrics`;
native histograms and exemplars through `gds_metrics.metrics`, the native buckets read
back from the protobuf scrape, as the request duration's with its trace exemplars."""

import gzip
import json
import math
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest
from flask import Flask
from werkzeug.test import EnvironBuilder, run_wsgi_app

from gds_metrics import ConfigurationError, ConflictError, GDSMetrics, Registry
from gds_metrics._native import Endpoint
from gds_metrics.metrics import Counter, Enum, Gauge, Histogram, NativeBuckets, Summary
from gds_metrics.wsgi import GDSMetricsMiddleware

from conftest import vectors
from protobuf_wire import native_histogram, request_histogram
from servers import Gunicorn, Uvicorn, raw_request

APP_BODY = b"app"
DJANGO_SITE = Path(__file__).parent / "django_site"

# The exception each error kind raises (bindings-python/src/error.rs).
EXCEPTION_OF_KIND = {
    "InvalidArgument": ValueError,
    "Duplicate": ValueError,
    "InvalidData": ValueError,
    "Configuration": ConfigurationError,
    "Io": OSError,
    "Conflict": ConflictError,
}


@pytest.fixture(autouse=True)
def empty_environment(monkeypatch):
    for name in ("VCAP_APPLICATION", "METRICS_BASIC_AUTH", "PROMETHEUS_METRICS_PATH", "CF_INSTANCE_INDEX"):
        monkeypatch.delenv(name, raising=False)


# --- endpoint.json ---------------------------------------------------------------------


def plain_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [APP_BODY]


def flask_app(settings):
    app = Flask(__name__)
    # Every request the endpoint leaves alone reaches the app: `//metrics` is neither
    # merged nor redirected, and any path is answered.
    app.url_map.merge_slashes = False
    app.register_error_handler(404, lambda error: (APP_BODY, 200))
    GDSMetrics(registry=Registry(), **settings).init_app(app)
    return app


def wsgi_app(settings):
    return GDSMetricsMiddleware(plain_app, registry=Registry(), **settings)


def server_environ(request):
    """The environ gunicorn builds: the target as sent in `RAW_URI`, the decoded path in
    `PATH_INFO`, header values as Latin-1 text."""
    headers = [(name, value.encode("utf-8").decode("latin-1")) for name, value in request["headers"]]
    environ = EnvironBuilder(method=request["method"], path="/", headers=headers).get_environ()
    path, _, query = request["target"].partition("?")
    environ.update(
        RAW_URI=request["target"],
        PATH_INFO=unquote(path, encoding="latin-1"),
        QUERY_STRING=query,
        HTTP_HOST="localhost",
    )
    return environ


def check_answer(expect, status, headers, body):
    assert status == expect["status"]
    if expect["served_by"] == "app":
        assert body == APP_BODY
    else:
        assert headers.get("cache-control") == "no-store"
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    kind = expect.get("body")
    if kind == "exposition":
        assert b"# TYPE http_server_requests" in body
    elif kind == "refusal":
        assert body.strip() and b"\n" not in body.strip()
    elif kind == "empty":
        assert body == b""
    for name, value in expect.get("headers", {}).items():
        assert headers.get(name) == value, name


@pytest.mark.parametrize("make_app", [flask_app, wsgi_app], ids=["flask", "wsgi"])
@pytest.mark.parametrize("case", vectors("endpoint"))
def test_endpoint_in_process(make_app, case):
    app = make_app(case["settings"])
    body, status, headers = run_wsgi_app(app, server_environ(case["request"]), buffered=True)
    lower = {name.lower(): value for name, value in headers.items()}
    check_answer(case["expect"], int(status.split()[0]), lower, b"".join(body))


VECTOR_APPS = '''\
import json
import os

from flask import Flask
from gds_metrics import GDSMetrics
from gds_metrics.asgi import GDSMetricsMiddleware as ASGIMiddleware
from gds_metrics.wsgi import GDSMetricsMiddleware

SETTINGS = json.loads(os.environ["VECTOR_SETTINGS"])


def plain(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


wsgi = GDSMetricsMiddleware(plain, **SETTINGS)

flask_app = Flask(__name__)
flask_app.url_map.merge_slashes = False
flask_app.register_error_handler(404, lambda error: (b"app", 200))
GDSMetrics(**SETTINGS).init_app(flask_app)


async def plain_asgi(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"app"})


asgi = ASGIMiddleware(plain_asgi, **SETTINGS)
'''

# Each integration a server runs, with the server: every one is sent each request target
# byte for byte, and must tell the exact metrics path from any decoded or normalised one.
SERVED_INTEGRATIONS = {
    "flask under gunicorn": ("gunicorn", "application:flask_app"),
    "wsgi under gunicorn": ("gunicorn", "application:wsgi"),
    "django under gunicorn": ("gunicorn", "django_site.wsgi:application"),
    "asgi under uvicorn": ("uvicorn", "application:asgi"),
    "django under uvicorn": ("uvicorn", "django_site.asgi:application"),
}


@pytest.fixture(scope="module")
def server_for(tmp_path_factory):
    """One server (one worker) per integration and settings, shared by the cases."""
    running = {}

    def server(integration, settings):
        key = (integration, json.dumps(settings, sort_keys=True))
        if key not in running:
            kind, app = SERVED_INTEGRATIONS[integration]
            workdir = tmp_path_factory.mktemp("vectors")
            (workdir / "application.py").write_text(VECTOR_APPS)
            shutil.copytree(DJANGO_SITE, workdir / "django_site")
            env = {"VECTOR_SETTINGS": key[1], "DJANGO_SETTINGS_MODULE": "django_site.vector_settings"}
            if kind == "gunicorn":
                (workdir / "gunicorn_config.py").write_text("from gds_metrics.gunicorn import child_exit\n")
                running[key] = Gunicorn(workdir, workers=1, app=app, env=env)
            else:
                # Django's ASGI handler refuses the lifespan protocol: `auto` lets it.
                running[key] = Uvicorn(workdir, app=app, env=env, extra_args=("--lifespan", "auto"))
        return running[key]

    yield server
    for started in running.values():
        started.stop()


@pytest.mark.parametrize("integration", list(SERVED_INTEGRATIONS))
@pytest.mark.parametrize("case", vectors("endpoint"))
def test_endpoint_under_a_real_server(server_for, integration, case):
    server = server_for(integration, case["settings"])
    request = case["request"]
    status, headers, body = raw_request(server.port, request["method"], request["target"], request["headers"])
    check_answer(case["expect"], status, headers, body)


# --- requests.json ---------------------------------------------------------------------


def raised(facts):
    """An exception instance whose class has the name and named ancestor of the facts."""
    if facts is None:
        return None
    base = type(facts["ancestor"], (Exception,), {}) if facts["ancestor"] else Exception
    return type(facts["class"] or "", (base,), {})()


@pytest.mark.parametrize("case", vectors("requests"))
def test_request_facts_decide_the_labels(monkeypatch, case):
    routes = case.get("settings", {}).get("routes")
    if routes is not None:
        vcap = {"application_id": "6b0b3c4e-5c1d-4d3b-9d2a-0c8e1f2a3b4c", "application_uris": routes}
        monkeypatch.setenv("VCAP_APPLICATION", json.dumps(vcap))
    registry = Registry()
    facts = case["facts"]
    exception = facts["exception"]
    Endpoint(registry).record(
        facts["method"], facts["host"], facts["raw_path"], facts["router"], facts["route"], facts["status"],
        0.01, raised(exception), bool(exception and exception["escaped"]),
    )
    text = registry.render().decode()
    expect = case["expect"]
    labels = f'method="{expect["method"]}",host="{expect["host"]}",path="{expect["path"]}",code="{expect["code"]}"'
    assert re.findall(r"^http_server_requests_total\{.*$", text, re.M) == [f"http_server_requests_total{{{labels}}} 1.0"]
    errors = re.findall(r"^http_server_exceptions_total\{.*$", text, re.M)
    assert errors == ([f'http_server_exceptions_total{{error="{expect["error"]}"}} 1.0'] if expect["error"] else [])


# --- traceparent.json ------------------------------------------------------------------

TRACED_LABELS = 'method="GET",host="app.example",path="/",code="200"'


def expected_exemplar_lines(expect):
    """The count's and the 0.01 s bucket's exemplar lines, up to the exemplar timestamp."""
    if expect is None:
        return []
    exemplar = f'# {{trace_id="{expect["trace_id"]}",span_id="{expect["span_id"]}"}}'
    return [
        f"http_server_requests_total{{{TRACED_LABELS}}} 1.0 {exemplar} 1.0 ",
        f'http_server_request_duration_seconds_bucket{{{TRACED_LABELS},le="0.01"}} 1.0 {exemplar} 0.01 ',
    ]


@pytest.mark.parametrize("case", vectors("traceparent"))
def test_traceparent_header_decides_the_exemplar(case):
    registry = Registry()
    endpoint = Endpoint(registry, **case.get("settings", {}))
    endpoint.record("GET", "app.example", "/", True, "/", 200, 0.01, traceparent=case["traceparent"])
    text = registry.render(openmetrics=True).decode()
    assert f"http_server_requests_total{{{TRACED_LABELS}}} 1.0" in text
    found = [line for line in text.splitlines() if " # {" in line]
    expected = expected_exemplar_lines(case["expect"])
    assert len(found) == len(expected), text
    for line, prefix in zip(found, expected):
        assert line.startswith(prefix), (line, prefix)


# --- request_native.json ---------------------------------------------------------------


@pytest.mark.parametrize("case", vectors("request_native"))
def test_request_duration_native_buckets_and_their_exemplar_in_protobuf(case):
    registry = Registry()
    endpoint = Endpoint(registry, **case.get("settings", {}))
    endpoint.record("GET", "app.example", "/", True, "/", 200, case["seconds"], traceparent=case["traceparent"])
    # Scraped by the same endpoint: another on the registry would have to agree on the setting.
    status, _, body = endpoint.handle("GET", "/metrics", [("Accept", PROTOBUF)])
    assert status == 200
    found = request_histogram(body, "http_server_request_duration_seconds")
    expect = case["expect"]
    if expect["native"] is not None:
        assert found["native"].pop("sum") == pytest.approx(expect["native"]["sum"], abs=1e-9)
        wanted = {key: value for key, value in expect["native"].items() if key != "sum"}
        for sign in ("positive", "negative"):
            wanted[sign] = {int(index): count for index, count in wanted[sign].items()}
        assert found["native"] == wanted
    else:
        assert found["native"] is None
    assert found["native_exemplars"] == expect["native_exemplars"]
    assert found["bucket_exemplars"] == expect["bucket_exemplars"]


# --- errors.json -----------------------------------------------------------------------

CLASSES = {"counter": Counter, "gauge": Gauge, "histogram": Histogram, "summary": Summary}
AMOUNTS = {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}


def define(registry, definition):
    extra = {"buckets": definition["buckets"]} if "buckets" in definition else {}
    cls = CLASSES[definition["kind"]]
    return cls(definition["name"], "A metric from a vector.", definition["labels"], registry=registry, **extra)


def call(metric, spec):
    target = metric.labels(*spec["labels"]) if spec["labels"] else metric
    amount = AMOUNTS.get(spec["amount"], spec["amount"])
    getattr(target, spec["op"])(amount)


@pytest.mark.parametrize("case", vectors("errors"))
def test_errors_are_raised_by_kind(case):
    registry = Registry()
    definitions, calls, expect = case["define"], case["calls"], case["expect"]
    metrics = [define(registry, d) for d in definitions[:-1]]
    raised_error = None
    try:
        metrics.append(define(registry, definitions[-1]))
        for spec in calls:
            call(metrics[-1], spec)
    except Exception as error:  # the vector names the kind; the class is checked below
        raised_error = error
    if expect["error"] is None:
        assert raised_error is None
    else:
        assert type(raised_error) is EXCEPTION_OF_KIND[expect["error"]], repr(raised_error)
    if "series_created" in expect:
        series = re.findall(r'^\w+\{queue="email"\} (\S+)$', registry.render().decode(), re.M)
        if expect["series_created"]:
            assert series
        else:
            # prometheus_client's `labels(...)` makes the series at zero before the call
            # that the core rejects, so Python keeps it, unchanged; the other languages'
            # one-call increments make none (a difference the vector allows no other way).
            assert series in ([], ["0.0"])


# --- series_limit.json -----------------------------------------------------------------


@pytest.mark.parametrize("case", vectors("series_limit"))
def test_series_limit_per_metric(case):
    registry = Registry()
    counter = Counter("limited", "Limited.", ["key"], registry=registry, series_limit=case["limit"])
    for label_set in case["label_sets"]:
        counter.labels(*label_set).inc()
    check_series_limit(registry.render().decode(), case["expect"])


@pytest.mark.parametrize("case", vectors("series_limit"))
def test_series_limit_per_registry(case):
    registry = Registry()
    registry.series_limit = case["limit"]
    counter = Counter("limited", "Limited.", ["key"], registry=registry)
    for label_set in case["label_sets"]:
        counter.labels(*label_set).inc()
    check_series_limit(registry.render().decode(), case["expect"])


def check_series_limit(text, expect):
    series = {key: float(value) for key, value in re.findall(r'^limited_total\{key="([^"]*)"\} (\S+)$', text, re.M)}
    assert series == {key: float(value) for key, value in expect["series"].items()}
    refused = re.findall(r'^gds_metrics_series_refused_total\{family="limited"\} (\S+)$', text, re.M)
    assert refused == ([f"{float(expect['refused'])}"] if expect["refused"] else [])


# --- native.json -------------------------------------------------------------------------

PROTOBUF = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"


def declare(registry, metric):
    if metric["kind"] == "counter":
        return Counter(metric["name"], "A metric from a vector.", registry=registry)
    extra = {"buckets": metric["buckets"]} if "buckets" in metric else {}
    native = metric.get("native")
    if native:
        extra["native"] = NativeBuckets(
            schema=native["schema"], zero_threshold=native["zero_threshold"], max_buckets=native["max_buckets"]
        )
    return Histogram(metric["name"], "A metric from a vector.", registry=registry, **extra)


def record(metric, spec):
    exemplar = dict(spec["exemplar"]) if "exemplar" in spec else None
    if spec["op"] == "inc":
        metric.inc(spec["amount"], exemplar=exemplar)
    else:
        metric.observe(spec["amount"], exemplar=exemplar)


def protobuf_scrape(registry):
    status, _, body = Endpoint(registry, auth_enabled=False).handle("GET", "/metrics", [("Accept", PROTOBUF)])
    assert status == 200
    return body


@pytest.mark.parametrize("case", vectors("native"))
def test_native_histograms_and_exemplars(case):
    registry = Registry()
    metric = declare(registry, case["metric"])
    expect = case["expect"]
    raised_error = None
    for spec in case["calls"]:
        try:
            record(metric, spec)
        except Exception as error:  # the vector names the kind; the class is checked below
            raised_error = error
    if expect["error"] is None:
        assert raised_error is None
    else:
        assert type(raised_error) is EXCEPTION_OF_KIND[expect["error"]], repr(raised_error)
    if "native" in expect:
        decoded = native_histogram(protobuf_scrape(registry), case["metric"]["name"])
        wanted = dict(expect["native"])
        assert decoded.pop("sum") == pytest.approx(wanted.pop("sum"), abs=1e-9)
        for sign in ("positive", "negative"):
            wanted[sign] = {int(index): count for index, count in wanted[sign].items()}
        assert decoded == wanted
    lines = registry.render(openmetrics=True).decode().splitlines()
    for line in expect.get("openmetrics", []):
        assert line in lines
    for prefix in expect["exemplars"]:
        assert any(re.fullmatch(re.escape(prefix) + r"\d+(\.\d+)?", line) for line in lines), (prefix, lines)
    assert sum(" # {" in line for line in lines) == expect["exemplar_lines"]


# --- native_settings.json ----------------------------------------------------------------


def native_settings_histogram(registry, settings):
    return Histogram("job_seconds", "A metric from a vector.", registry=registry, native=NativeBuckets(**settings))


@pytest.mark.parametrize("case", vectors("native_settings"))
def test_native_settings(case):
    registry = Registry()
    expect = case["expect"]
    if expect["error"] is not None:
        with pytest.raises(EXCEPTION_OF_KIND[expect["error"]]) as raised:
            native_settings_histogram(registry, case["settings"])
        assert str(raised.value) == expect["message"]
        return
    native_settings_histogram(registry, case["settings"]).observe(1.0)
    decoded = native_histogram(protobuf_scrape(registry), "job_seconds")
    assert (decoded["schema"], decoded["zero_threshold"]) == (expect["schema"], expect["zero_threshold"])

# --- summaries.json ----------------------------------------------------------------------


class ScrapeTimeCase:
    """A prometheus_client collector handing over the one family of a vector case, of type
    `kind`, each series' samples added by `add_samples`."""

    kind = ""

    def __init__(self, case):
        self.case = case

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import Metric

        family = self.case["family"]
        metric = Metric(family["name"], family["help"], self.kind)
        for series in self.case["series"]:
            self.add_samples(metric, family["name"], dict(zip(family["labels"], series["labels"])), series)
        yield metric


class ScrapeTimeSummary(ScrapeTimeCase):
    """One summary family with quantiles."""

    kind = "summary"

    def add_samples(self, metric, name, labels, series):
        for quantile, value in series["quantiles"]:
            metric.add_sample(name, {**labels, "quantile": str(quantile)}, value)
        metric.add_sample(name + "_count", labels, series["count"])
        metric.add_sample(name + "_sum", labels, series["sum"])


def summary_scrapes(case):
    """The text and protobuf scrapes of a registry holding the case's summary."""
    family = case["family"]
    if case["source"] == "observed":
        registry = Registry()
        summary = Summary(family["name"], family["help"], family["labels"], registry=registry)
        for observation in case["observations"]:
            summary.labels(*observation["labels"]).observe(observation["amount"])
        return registry.render().decode(), protobuf_scrape(registry)
    text, _, body = bridged_scrapes(ScrapeTimeSummary(case))
    return text, body


def bridged_scrapes(collector):
    """The text, OpenMetrics and protobuf scrapes of the default registry, which bridges
    prometheus_client's, while `collector` is in prometheus_client's default registry."""
    import prometheus_client

    from gds_metrics._native import default_registry

    prometheus_client.REGISTRY.register(collector)
    try:
        return scrapes(default_registry())
    finally:
        prometheus_client.REGISTRY.unregister(collector)


def scrapes(registry):
    """The text, OpenMetrics and protobuf scrapes of `registry`."""
    return registry.render().decode(), registry.render(openmetrics=True).decode(), protobuf_scrape(registry)


def decoded_series(body, wanted):
    """The metrics of the family `wanted` names in the protobuf scrape `body`, each with its
    expected series, once the family's type, its number of metrics and their labels are
    checked."""
    from metrics_proto import families, type_name

    (family,) = [f for f in families(body) if f.name == wanted["name"]]
    assert type_name(family) == wanted["type"]
    assert len(family.metric) == len(wanted["series"])
    for metric, series in zip(family.metric, wanted["series"]):
        assert [[label.name, label.value] for label in metric.label] == series["labels"]
    return zip(family.metric, wanted["series"])


@pytest.mark.parametrize("case", vectors("summaries"))
def test_summaries_with_and_without_quantiles(case):
    text, body = summary_scrapes(case)
    expect = case["expect"]
    assert "\n".join(expect["text"]) + "\n" in text
    for metric, series in decoded_series(body, expect["protobuf"]):
        assert not (metric.HasField("gauge") or metric.HasField("counter") or metric.HasField("untyped")), metric
        assert metric.HasField("summary"), metric
        assert metric.summary.sample_count == series["sample_count"]
        assert metric.summary.sample_sum == series["sample_sum"]
        assert [[q.quantile, q.value] for q in metric.summary.quantile] == series["quantiles"]


# --- statesets.json ----------------------------------------------------------------------


class ScrapeTimeStateSet(ScrapeTimeCase):
    """One state set, a sample per state in the case's order (``StateSetMetricFamily``
    would sort the states)."""

    kind = "stateset"

    def add_samples(self, metric, name, labels, series):
        for state, is_set in series["states"]:
            metric.add_sample(name, {**labels, name: state}, 1 if is_set else 0)


def enum_scrapes(case):
    """The scrapes of a registry holding the case as an ``Enum`` whose every series is in
    its one set state."""
    family = case["family"]
    registry = Registry()
    states = [state for state, _ in case["series"][0]["states"]]
    enum = Enum(family["name"], family["help"], family["labels"], states=states, registry=registry)
    for series in case["series"]:
        (current,) = [state for state, is_set in series["states"] if is_set]
        (enum.labels(*series["labels"]) if family["labels"] else enum).state(current)
    return scrapes(registry)


STATE_SET_RUNS = [
    pytest.param(case.values[0], source, id=f"{case.id} ({source})")
    for case in vectors("statesets")
    for source in (["bridge", "enum"] if case.values[0]["enum"] else ["bridge"])
]


@pytest.mark.parametrize("case,source", STATE_SET_RUNS)
def test_state_sets_in_every_format(case, source):
    assert case["source"] == "scrape_time", "a source this runner cannot make"
    text, openmetrics, body = bridged_scrapes(ScrapeTimeStateSet(case)) if source == "bridge" else enum_scrapes(case)
    expect = case["expect"]
    assert "\n".join(expect["text"]) + "\n" in text
    assert "\n".join(expect["openmetrics"]) + "\n" in openmetrics
    for metric, series in decoded_series(body, expect["protobuf"]):
        assert not any(metric.HasField(kind) for kind in ("counter", "summary", "untyped", "histogram")), metric
        assert metric.HasField("gauge"), metric
        assert metric.gauge.value == series["gauge"]

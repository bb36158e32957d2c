"""Native histograms and exemplars: declared from Python, served by the endpoint in
protobuf and OpenMetrics."""

import functools
import re

import pytest
from werkzeug.test import Client

from gds_metrics import Registry
from gds_metrics.metrics import Counter, Histogram, NativeBuckets
from gds_metrics.wsgi import GDSMetricsMiddleware
from protobuf_wire import varint

PROTOBUF = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
OPENMETRICS = "application/openmetrics-text;version=1.0.0"


def exemplar_pattern(value):
    """An OpenMetrics exemplar of `trace()` with this value (a regex) and a timestamp."""
    return r'# \{trace_id="4bf92f3577b34da6",span_id="00f067aa0ba902b7"\} ' + value + r" \d+(\.\d+)?$"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("VCAP_APPLICATION", "METRICS_BASIC_AUTH", "PROMETHEUS_METRICS_PATH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def registry():
    return Registry()


def scrape(registry, accept):
    app = GDSMetricsMiddleware(lambda environ, start_response: [], registry=registry)
    response = Client(app).get("/metrics", headers={"Accept": accept}, buffered=True)
    assert response.status_code == 200
    return response


def delimited_messages(body):
    """The lengths of the length-prefixed messages in `body`; fails on a torn one."""
    lengths, at = [], 0
    while at < len(body):
        length, at = varint(body, at)
        at += length
        lengths.append(length)
    assert at == len(body), "the last message runs past the body"
    return lengths


def trace(**extra):
    return {"trace_id": "4bf92f3577b34da6", "span_id": "00f067aa0ba902b7", **extra}


def test_native_only_histogram_is_scraped_in_protobuf(registry):
    latency = Histogram("job_duration_seconds", "Time per job.", registry=registry, native=True)
    latency.observe(0.25)
    response = scrape(registry, PROTOBUF)
    assert response.headers["Content-Type"].startswith("application/vnd.google.protobuf")
    assert "encoding=delimited" in response.headers["Content-Type"]
    body = response.get_data()
    assert delimited_messages(body)
    assert b"job_duration_seconds" in body


def test_native_only_histogram_shows_count_and_sum_in_openmetrics(registry):
    latency = Histogram("job_duration_seconds", "Time per job.", registry=registry, native=True)
    latency.observe(0.25)
    text = scrape(registry, OPENMETRICS).get_data().decode()
    assert 'job_duration_seconds_bucket{le="+Inf"} 1.0\n' in text
    assert "job_duration_seconds_count 1.0\n" in text
    assert "job_duration_seconds_sum 0.25\n" in text


def test_native_histogram_with_classic_buckets_shows_them_in_openmetrics(registry):
    settings = NativeBuckets(schema=3, zero_threshold=0.001, max_buckets=50, reset_after=3600)
    latency = Histogram("job_duration_seconds", "Time per job.", ["queue"], registry=registry, buckets=[0.1, 1], native=settings)
    latency.labels("mail").observe(0.5)
    text = scrape(registry, OPENMETRICS).get_data().decode()
    assert 'job_duration_seconds_bucket{queue="mail",le="0.1"} 0.0\n' in text
    assert 'job_duration_seconds_bucket{queue="mail",le="1.0"} 1.0\n' in text


def test_native_settings_left_out_are_the_cores_defaults():
    assert repr(NativeBuckets()) == (
        "NativeBuckets(schema=5, zero_threshold=2.938735877055719e-39, max_buckets=160, reset_after=None)"
    )
    assert repr(NativeBuckets(max_buckets=50, reset_after=3600)) == (
        "NativeBuckets(schema=5, zero_threshold=2.938735877055719e-39, max_buckets=50, reset_after=3600)"
    )


def test_bad_native_settings_are_a_value_error(registry):
    with pytest.raises(ValueError, match="the schema must be between -4 and 8"):
        Histogram("a_seconds", "A.", registry=registry, native=NativeBuckets(schema=9))
    with pytest.raises(ValueError, match=r"the reset interval \(reset_after\) must be a number of seconds above zero, got -1"):
        NativeBuckets(reset_after=-1)
    with pytest.raises(ValueError, match="the zero threshold must be a finite number, 0 or more, got NaN"):
        NativeBuckets(zero_threshold=float("nan"))
    with pytest.raises(ValueError, match="native must be True, False or"):
        Histogram("b_seconds", "B.", registry=registry, native="yes")


def test_histogram_exemplar_appears_in_openmetrics(registry):
    latency = Histogram("job_duration_seconds", "Time per job.", registry=registry, buckets=[0.1, 1])
    latency.observe(0.5, exemplar=trace())
    text = scrape(registry, OPENMETRICS).get_data().decode()
    bucket = next(line for line in text.splitlines() if line.startswith('job_duration_seconds_bucket{le="1.0"}'))
    assert re.search(exemplar_pattern(r"0\.5"), bucket), bucket


def test_counter_exemplar_appears_in_openmetrics(registry):
    jobs = Counter("jobs", "Jobs done.", registry=registry)
    jobs.inc(2, exemplar=trace())
    jobs.inc()
    text = scrape(registry, OPENMETRICS).get_data().decode()
    total = next(line for line in text.splitlines() if line.startswith("jobs_total "))
    assert total.startswith("jobs_total 3.0 # ")
    assert re.search(exemplar_pattern(r"2\.0"), total), total


def test_an_exemplar_over_128_characters_is_a_value_error_and_records_nothing(registry):
    jobs = Counter("jobs", "Jobs done.", registry=registry)
    latency = Histogram("job_duration_seconds", "Time per job.", registry=registry, native=True)
    with pytest.raises(ValueError, match="OpenMetrics allows 128"):
        jobs.inc(1, exemplar={"trace_id": "x" * 121})
    with pytest.raises(ValueError, match="OpenMetrics allows 128"):
        latency.observe(0.1, exemplar={"trace_id": "x" * 121})
    assert jobs.get() == 0
    text = registry.render().decode()
    assert "job_duration_seconds_count 0.0\n" in text


def test_an_exemplar_that_is_not_a_dict_is_a_type_error(registry):
    jobs = Counter("jobs", "Jobs done.", registry=registry)
    with pytest.raises(TypeError, match="exemplar must be a dict"):
        jobs.inc(1, exemplar="trace")


def test_exemplars_reach_a_multiprocess_scrape_only_when_shared(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    shared = Counter("shared", "Shared.", registry=registry, exemplars_across_processes=True)
    local = Counter("local", "Local.", registry=registry)
    latency = Histogram("latency_seconds", "L.", registry=registry, native=True, exemplars_across_processes=True)
    shared.inc(1, exemplar=trace())
    local.inc(1, exemplar=trace())
    latency.observe(0.5, exemplar=trace())
    text = registry.render(openmetrics=True).decode()
    assert re.search(exemplar_pattern(r"1\.0"), next(l for l in text.splitlines() if l.startswith("shared_total ")))
    assert next(l for l in text.splitlines() if l.startswith("local_total ")) == "local_total 1.0"
    inf = next(l for l in text.splitlines() if l.startswith('latency_seconds_bucket{le="+Inf"}'))
    assert re.search(exemplar_pattern(r"0\.5"), inf), inf

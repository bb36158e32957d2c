"""The custom-metrics API: prometheus_client's call style over the core's families."""

import threading

import pytest

from gds_metrics.metrics import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    Registry,
    Summary,
    generate_latest,
)


@pytest.fixture
def registry():
    return Registry()


def text(registry):
    return registry.render().decode()


def test_counter_increments_show_in_the_exposition(registry):
    c = Counter("jobs", "Jobs done.", registry=registry)
    c.inc()
    c.inc(2.5)
    assert text(registry) == "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3.5\n"


def test_counter_total_suffix_is_not_doubled(registry):
    Counter("jobs_total", "Jobs done.", registry=registry).inc()
    assert "jobs_total 1.0\n" in text(registry)


def test_labels_by_position_and_by_name_reach_the_same_series(registry):
    c = Counter("requests", "Requests.", ["method", "code"], registry=registry)
    c.labels("GET", "200").inc()
    c.labels(method="GET", code="200").inc()
    c.labels(code=200, method="GET").inc()
    assert c.labels("GET", 200).get() == 3.0
    assert 'requests_total{method="GET",code="200"} 3.0\n' in text(registry)


def test_wrong_label_count_is_a_value_error(registry):
    c = Counter("requests", "Requests.", ["method", "code"], registry=registry)
    with pytest.raises(ValueError, match=r"has 2 label\(s\) \(method, code\) but 1 value\(s\) were given"):
        c.labels("GET")


def test_wrong_label_names_are_a_value_error(registry):
    c = Counter("requests", "Requests.", ["method"], registry=registry)
    with pytest.raises(ValueError, match=r"has the labels \(method\) but was given \(verb\)"):
        c.labels(verb="GET")


def test_mixing_positional_and_named_label_values_is_a_value_error(registry):
    c = Counter("requests", "Requests.", ["method", "code"], registry=registry)
    with pytest.raises(ValueError, match="either by position or by name"):
        c.labels("GET", code="200")


def test_updating_a_labelled_parent_is_a_value_error(registry):
    c = Counter("requests", "Requests.", ["method"], registry=registry)
    with pytest.raises(ValueError, match=r"has labels \(method\): call .labels\(...\) before .inc\(\)"):
        c.inc()


def test_labels_on_a_child_or_an_unlabelled_metric_is_a_value_error(registry):
    labelled = Counter("a", "A.", ["x"], registry=registry)
    with pytest.raises(ValueError, match="already has its labels set"):
        labelled.labels("1").labels("2")
    plain = Counter("b", "B.", registry=registry)
    with pytest.raises(ValueError, match="defined without label names"):
        plain.labels("1")


def test_negative_counter_increment_is_a_value_error(registry):
    c = Counter("jobs", "Jobs.", registry=registry)
    with pytest.raises(ValueError, match="can only increase; got an increment of -1"):
        c.inc(-1)
    assert c.get() == 0.0


def test_bad_metric_name_is_a_value_error(registry):
    with pytest.raises(ValueError, match="invalid metric name ``: it is empty"):
        Counter("", "Jobs.", registry=registry)


def test_a_utf8_metric_name_is_valid(registry):
    Counter("jobs.done", "Jobs.", registry=registry).inc()
    Counter("bad name", "Refused by gds-metrics 0.2.4.", registry=registry).inc()


def test_legacy_names_when_asked_for_refuse_what_0_2_4_refused(registry):
    registry.use_legacy_names()
    with pytest.raises(ValueError, match=r"invalid metric name `bad name`: .*legacy names were asked for"):
        Counter("bad name", "Jobs.", registry=registry)
    with pytest.raises(ValueError, match=r"invalid label name `a:b` for metric `jobs`: .*legacy names were asked for"):
        Counter("jobs", "Jobs.", ["a:b"], registry=registry)
    Counter("jobs", "Jobs.", ["queue"], registry=registry).labels("q").inc()


def test_bad_label_name_is_a_value_error(registry):
    with pytest.raises(ValueError, match="invalid label name `__x`"):
        Gauge("g", "G.", ["__x"], registry=registry)


def test_duplicate_registration_is_a_value_error(registry):
    Counter("jobs", "Jobs.", registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        Gauge("jobs_total", "Jobs.", registry=registry)


def test_string_label_names_are_rejected_rather_than_split(registry):
    with pytest.raises(TypeError):
        Counter("jobs", "Jobs.", "queue", registry=registry)


def test_metrics_with_registry_none_are_not_registered(registry):
    Counter("jobs", "Jobs.", registry=None).inc()
    Counter("jobs", "Jobs.", registry=None).inc()


def test_namespace_subsystem_and_unit_build_the_name(registry):
    g = Gauge("latency", "Latency.", namespace="app", subsystem="db", unit="seconds", registry=registry)
    g.set(0.5)
    assert text(registry) == (
        "# HELP app_db_latency_seconds Latency.\n"
        "# TYPE app_db_latency_seconds gauge\n"
        "app_db_latency_seconds 0.5\n"
    )
    om = registry.render(openmetrics=True).decode()
    assert "# UNIT app_db_latency_seconds seconds\n" in om
    assert om.endswith("# EOF\n")


def test_gauge_inc_dec_set(registry):
    g = Gauge("queue", "Queue length.", registry=registry)
    g.inc()
    g.inc(4)
    g.dec()
    g.dec(0.5)
    assert g.get() == 3.5
    g.set(-2)
    assert g.get() == -2.0


def test_gauge_set_to_current_time(registry):
    import time

    g = Gauge("last_run", "Last run.", registry=registry)
    before = time.time()
    g.set_to_current_time()
    assert before - 1 <= g.get() <= time.time() + 1


def test_gauge_tracks_in_progress_as_context_manager_and_decorator(registry):
    g = Gauge("busy", "Busy.", registry=registry)
    seen = []

    @g.track_inprogress()
    def work():
        seen.append(g.get())

    with g.track_inprogress():
        seen.append(g.get())
        work()
    assert seen == [1.0, 2.0]
    assert g.get() == 0.0


def test_gauge_time_sets_the_duration(registry):
    g = Gauge("took", "Took.", registry=registry)
    with g.time():
        pass
    assert 0.0 <= g.get() < 1.0


def test_histogram_observations_fill_buckets(registry):
    h = Histogram("size", "Size.", buckets=[1, 5], registry=registry)
    for v in (0.5, 1, 3, 10):
        h.observe(v)
    assert text(registry) == (
        "# HELP size Size.\n"
        "# TYPE size histogram\n"
        'size_bucket{le="1.0"} 2.0\n'
        'size_bucket{le="5.0"} 3.0\n'
        'size_bucket{le="+Inf"} 4.0\n'
        "size_count 4.0\n"
        "size_sum 14.5\n"
    )


def test_histogram_accepts_prometheus_client_buckets_ending_in_inf(registry):
    h = Histogram("size", "Size.", buckets=(1.0, float("inf")), registry=registry)
    h.observe(2)
    assert 'size_bucket{le="+Inf"} 1.0\n' in text(registry)


def test_histogram_unsorted_buckets_are_a_value_error(registry):
    with pytest.raises(ValueError, match="strictly increasing"):
        Histogram("size", "Size.", buckets=[5, 1], registry=registry)


def test_histogram_time_as_decorator_and_context_manager(registry):
    h = Histogram("took", "Took.", ["step"], registry=registry)

    @h.labels("decorated").time()
    def work():
        return 42

    assert work() == 42
    assert work() == 42
    with h.labels("block").time():
        pass
    out = text(registry)
    assert 'took_count{step="decorated"} 2.0\n' in out
    assert 'took_count{step="block"} 1.0\n' in out


def test_summary_counts_and_sums(registry):
    s = Summary("payload", "Payload.", registry=registry)
    s.observe(2)
    s.observe(3)
    with s.time():
        pass
    out = text(registry)
    assert "payload_count 3.0\n" in out
    assert "# TYPE payload summary\n" in out


def test_count_exceptions_counts_and_reraises(registry):
    c = Counter("failures", "Failures.", registry=registry)

    @c.count_exceptions(ZeroDivisionError)
    def divide(a, b):
        return a / b

    assert divide(4, 2) == 2
    with pytest.raises(ZeroDivisionError):
        divide(1, 0)
    with pytest.raises(KeyError):
        with c.count_exceptions(ZeroDivisionError):
            raise KeyError("not counted")
    with pytest.raises(RuntimeError):
        with c.count_exceptions():
            raise RuntimeError("counted")
    assert c.get() == 2.0


def test_remove_and_clear_forget_children(registry):
    g = Gauge("temp", "Temp.", ["room"], registry=registry)
    g.labels("a").set(1)
    g.labels("b").set(2)
    g.remove("a")
    assert 'room="a"' not in text(registry)
    g.clear()
    assert 'room="b"' not in text(registry)


def test_unregister_removes_the_family(registry):
    Counter("jobs", "Jobs.", registry=registry)
    assert registry.unregister("jobs")
    assert text(registry) == ""
    Counter("jobs", "Jobs.", registry=registry)


def test_default_registry_is_shared_and_rendered_by_generate_latest():
    c = Counter("test_default_registry_jobs", "Jobs.")
    c.inc()
    try:
        assert b"test_default_registry_jobs_total 1.0\n" in generate_latest()
        assert b"test_default_registry_jobs_total 1.0\n" in generate_latest(REGISTRY)
    finally:
        REGISTRY.unregister("test_default_registry_jobs")


def test_increments_from_many_threads_are_all_counted(registry):
    c = Counter("hits", "Hits.", ["worker"], registry=registry)

    def hammer():
        child = c.labels("w")
        for _ in range(20_000):
            child.inc()
            c.labels("w").inc()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.labels("w").get() == 8 * 2 * 20_000


def test_children_are_reused_like_prometheus_client(registry):
    c = Counter("jobs", "Jobs.", ["queue"], registry=registry)
    assert c.labels("mail") is c.labels("mail")


def test_equal_but_different_label_values_never_share_a_cached_child(registry):
    c = Counter("jobs", "Jobs.", ["queue"], registry=registry)
    c.labels(1).inc()
    c.labels(True).inc(2)
    c.labels(1.0).inc(3)
    c.labels("1").inc(4)
    out = text(registry)
    assert 'jobs_total{queue="1"} 5.0\n' in out
    assert 'jobs_total{queue="True"} 2.0\n' in out
    assert 'jobs_total{queue="1.0"} 3.0\n' in out


def test_a_removed_child_starts_again_at_zero(registry):
    c = Counter("jobs", "Jobs.", ["queue"], registry=registry)
    c.labels("mail").inc(3)
    c.remove("mail")
    assert c.labels("mail").get() == 0.0
    c.labels("mail").inc()
    c.clear()
    assert c.labels("mail").get() == 0.0


# --- the rest of prometheus_client's metric API ------------------------------------------


def test_info_exposes_its_facts_as_labels():
    from gds_metrics.metrics import Info

    registry = Registry()
    Info("build", "The running build.", registry=registry).info({"version": "1.2", "commit": "abc"})
    by_region = Info("site", "Sites.", ["region"], registry=registry)
    by_region.labels("eu").info({"name": "london"})
    text = registry.render().decode()
    assert 'build_info{commit="abc",version="1.2"} 1.0\n' in text
    assert 'site_info{region="eu",name="london"} 1.0\n' in text
    openmetrics = registry.render(openmetrics=True).decode()
    assert "# TYPE build info\n" in openmetrics


def test_info_keys_must_not_be_label_names():
    from gds_metrics.metrics import Info

    info = Info("site", "Sites.", ["region"], registry=Registry())
    with pytest.raises(ValueError, match="region"):
        info.labels("eu").info({"region": "x"})


def test_enum_is_one_for_its_state_and_starts_in_the_first():
    from gds_metrics.metrics import Enum

    registry = Registry()
    state = Enum("worker_state", "State.", states=["idle", "busy"], registry=registry)
    assert 'worker_state{worker_state="idle"} 1.0\n' in registry.render().decode()
    state.state("busy")
    text = registry.render().decode()
    assert 'worker_state{worker_state="idle"} 0.0\n' in text
    assert 'worker_state{worker_state="busy"} 1.0\n' in text
    with pytest.raises(ValueError, match="idle, busy"):
        state.state("asleep")


def test_enum_is_a_stateset_in_openmetrics_with_its_labels_first():
    from gds_metrics.metrics import Enum

    registry = Registry()
    state = Enum("worker_state", "State.", ["queue"], states=["idle", "busy"], registry=registry)
    state.labels("mail").state("busy")
    assert registry.render(openmetrics=True).decode().startswith(
        "# HELP worker_state State.\n"
        "# TYPE worker_state stateset\n"
        'worker_state{queue="mail",worker_state="idle"} 0.0\n'
        'worker_state{queue="mail",worker_state="busy"} 1.0\n'
    )
    assert "# TYPE worker_state gauge\n" in registry.render().decode()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            {"states": ["idle", "busy", "idle"]},
            "invalid state `idle` of state set `worker_state`: it is given twice in one series; give each state once",
        ),
        (
            {"labelnames": ["worker_state"], "states": ["idle"]},
            "invalid label name `worker_state` for metric `worker_state`: a state set writes its states under a "
            "label named like the metric; rename this label",
        ),
        (
            {"states": ["idle"], "unit": "seconds"},
            "invalid unit `seconds` for metric `worker_state_seconds`: OpenMetrics gives state sets no unit; leave it out",
        ),
    ],
)
def test_enum_mistakes_are_raised_where_it_is_declared_and_leave_nothing_registered(arguments, message):
    from gds_metrics.metrics import Enum

    registry = Registry()
    with pytest.raises(ValueError) as raised:
        Enum("worker_state", "State.", registry=registry, **arguments)
    assert str(raised.value) == message
    assert "worker_state" not in registry.render().decode()


def test_info_and_enum_names_clash_like_any_metric():
    from gds_metrics.metrics import Enum, Info

    registry = Registry()
    Counter("jobs", "Jobs.", registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        Enum("jobs_total", "Clash.", states=["a"], registry=registry)
    Info("build", "Build.", registry=registry)
    with pytest.raises(ValueError, match="already registered"):
        Info("build", "Again.", registry=registry)


def test_set_function_is_read_at_each_render_and_a_raising_one_keeps_the_scrape(monkeypatch):
    import sys

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    registry = Registry()
    values = iter([1.0, 2.0])
    Gauge("queue", "Queue.", registry=registry).set_function(lambda: next(values))
    assert "queue 1.0\n" in registry.render().decode()
    assert "queue 2.0\n" in registry.render().decode()
    text = registry.render().decode()  # the iterator is exhausted: StopIteration
    assert "queue 2.0\n" in text
    assert [type(report.exc_value) for report in reported] == [StopIteration]


def test_namespace_subsystem_and_unit_build_the_name():
    registry = Registry()
    Histogram("latency", "Latency.", namespace="app", subsystem="http", unit="seconds", registry=registry).observe(1)
    Gauge("size_bytes", "Size.", unit="bytes", registry=registry).set(3)
    text = registry.render(openmetrics=True).decode()
    assert "# TYPE app_http_latency_seconds histogram\n" in text
    assert "# UNIT app_http_latency_seconds seconds\n" in text
    assert "size_bytes 3.0\n" in text


def test_series_limit_for_a_whole_registry():
    from gds_metrics.metrics import set_series_limit

    registry = Registry()
    assert registry.series_limit == 2000
    set_series_limit(1, registry)
    counter = Counter("limited", "Limited.", ["key"], registry=registry)
    own = Counter("own", "Own limit.", ["key"], registry=registry, series_limit=3)
    for key in "abc":
        counter.labels(key).inc()
        own.labels(key).inc()
    text = registry.render().decode()
    assert 'limited_total{key="__overflow__"} 2.0\n' in text
    assert 'own_total{key="c"} 1.0\n' in text
    assert 'gds_metrics_series_refused_total{family="limited"} 2.0\n' in text


def test_a_bad_setting_is_a_configuration_error(monkeypatch):
    from gds_metrics import ConfigurationError, GDSMetrics

    monkeypatch.setenv("METRICS_BASIC_AUTH", "yes")
    with pytest.raises(ConfigurationError, match="METRICS_BASIC_AUTH"):
        GDSMetrics(registry=Registry())
    assert issubclass(ConfigurationError, ValueError)


@pytest.mark.parametrize(
    "collect, error",
    [
        (lambda: 1 / 0, ZeroDivisionError),
        (lambda: [("gauge", "", "No name.", "", [], [])], ValueError),
        (lambda: [("gauge", "two", "Two labels.", "", ["a", "b"], [(["only one"], 1.0)])], ValueError),
    ],
    ids=["raises", "empty name", "wrong label count"],
)
def test_a_scrape_time_collector_that_fails_is_left_out_of_the_scrape(monkeypatch, collect, error):
    import sys

    reported = []
    monkeypatch.setattr(sys, "unraisablehook", reported.append)
    registry = Registry()
    Counter("kept", "Kept.", registry=registry).inc()
    registry.register_collector(collect)
    text = registry.render().decode()
    assert "kept_total 1.0\n" in text
    assert "No name." not in text and "two{" not in text
    assert [type(report.exc_value) for report in reported] == [error]
    named = f"{collect.__module__}.{collect.__qualname__}"
    assert f'gds_metrics_collector_failures_total{{collector="{named}"}} 1.0\n' in text


# `inc()`, `labels("a", "b")` and `observe(x)` are answered by fast C functions that pass
# every other shape of call on to the full method (bindings-python/src/fast_path.rs); these
# tests hold each passed-on shape to the full method's behaviour.


def test_fast_inc_passes_on_amounts_keywords_and_errors(registry):
    c = Counter("fast_jobs", "Jobs.", registry=registry)
    c.inc()
    c.inc(2)
    c.inc(amount=3.5)
    assert c.get() == 6.5
    with pytest.raises(ValueError, match="only increase"):
        c.inc(-1)
    with pytest.raises(TypeError, match="unexpected keyword argument 'step'"):
        c.inc(step=1)
    with pytest.raises(TypeError):
        c.inc(1, 2)
    labelled = Counter("fast_mail", "Mail.", ["template"], registry=registry)
    with pytest.raises(ValueError, match=r"call \.labels\(\.\.\.\) before \.inc\(\)"):
        labelled.inc()
    assert c.get() == 6.5


def test_fast_labels_returns_the_cached_child_and_passes_on_the_rest(registry):
    c = Counter("fast_requests", "Requests.", ["method", "code"], registry=registry)
    child = c.labels("GET", "200")
    assert c.labels("GET", "200") is child
    assert c.labels(method="GET", code="200").get() == child.get()
    c.labels("GET", 200).inc()  # not a str: converted, never cached
    assert child.get() == 1.0
    with pytest.raises(ValueError, match="2 label"):
        c.labels("GET")
    with pytest.raises(ValueError, match="already has its labels set"):
        child.labels("GET", "200")
    c.remove("GET", "200")
    assert c.labels("GET", "200") is not child
    assert c.labels("GET", "200").get() == 0.0


def test_fast_observe_passes_on_ints_keywords_and_errors(registry):
    h = Histogram("fast_seconds", "Time.", buckets=[1.0], registry=registry)
    h.observe(0.5)
    h.observe(2)
    h.observe(amount=1.0)
    with pytest.raises(TypeError):
        h.observe("slow")
    with pytest.raises(TypeError):
        h.observe()
    assert 'fast_seconds_count 3.0' in text(registry)
    assert 'fast_seconds_sum 3.5' in text(registry)
    labelled = Histogram("fast_sizes", "Sizes.", ["kind"], registry=registry)
    with pytest.raises(ValueError, match=r"before \.observe\(\)"):
        labelled.observe(1.0)


def test_fast_methods_keep_the_signatures_and_docs():
    import inspect

    assert str(inspect.signature(Counter.inc)) == "(self, /, amount=1.0, exemplar=None)"
    assert "negative amount" in Counter.inc.__doc__
    assert str(inspect.signature(Histogram.observe)) == "(self, /, amount, exemplar=None)"
    assert str(inspect.signature(Counter.labels)) == "(self, /, *args, **kwargs)"


def test_the_default_registry_exports_the_process_metrics_once():
    """The core's process metrics replace prometheus_client's ProcessCollector, which its
    default registry still holds: one family each, no warning."""
    import resource
    import warnings

    import prometheus_client

    from gds_metrics._native import default_registry

    assert any(isinstance(c, prometheus_client.ProcessCollector) for c in prometheus_client.REGISTRY._collector_to_names)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = default_registry().render().decode()
    for family in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds",
                   "process_start_time_seconds", "process_virtual_memory_bytes"):
        assert text.count(f"# TYPE {family} ") == 1, family
    max_fds = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert f"process_max_fds {float(max_fds)}\n" in text

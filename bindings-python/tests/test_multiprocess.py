"""Multi-process registries: forked processes writing to one directory, one aggregate."""

import os
import re

import pytest

from gds_metrics._native import fold_dead
from gds_metrics.metrics import Counter, Enum, Gauge, Histogram, Registry


def in_child(work):
    """Runs `work` in a forked child that exits once it is done."""
    pid = os.fork()
    if pid == 0:
        try:
            work()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return pid


def in_live_child(work):
    """Runs `work` in a forked child that stays alive until the returned `stop()`."""
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            work()
            os.write(ready_w, b"1")
            os.read(stop_r, 1)
        finally:
            os._exit(0)
    os.read(ready_r, 1)

    def stop():
        os.write(stop_w, b"1")
        os.waitpid(pid, 0)

    return pid, stop


def text(registry):
    return registry.render().decode()


def test_counters_of_all_processes_are_summed(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    jobs = Counter("jobs", "Jobs.", ["queue"], registry=registry)
    jobs.labels("mail").inc()
    in_child(lambda: jobs.labels("mail").inc(2))
    in_child(lambda: jobs.labels("sms").inc(5))
    assert 'jobs_total{queue="mail"} 3.0\n' in text(registry)
    assert 'jobs_total{queue="sms"} 5.0\n' in text(registry)


def test_counts_of_exited_processes_stay_after_folding(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    jobs = Counter("jobs", "Jobs.", registry=registry)
    for _ in range(5):
        in_child(jobs.inc)
    fold_dead(tmp_path)
    assert "jobs_total 5.0\n" in text(registry)


def test_histograms_are_summed_bucket_by_bucket(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    sizes = Histogram("size", "Size.", buckets=[1, 10], registry=registry)
    sizes.observe(0.5)
    in_child(lambda: sizes.observe(5))
    out = text(registry)
    assert 'size_bucket{le="1.0"} 1.0\n' in out
    assert 'size_bucket{le="10.0"} 2.0\n' in out
    assert "size_count 2.0\n" in out
    assert "size_sum 5.5\n" in out


def test_livesum_gauge_drops_processes_that_exit(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    busy = Gauge("busy", "Busy workers.", multiprocess_mode="livesum", registry=registry)
    busy.set(1)
    _, stop = in_live_child(lambda: busy.set(2))
    assert "busy 3.0\n" in text(registry)
    stop()
    assert "busy 1.0\n" in text(registry)


def test_all_gauge_has_one_series_per_process(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    temp = Gauge("temperature", "Temperature.", registry=registry)
    temp.set(20)
    child, stop = in_live_child(lambda: temp.set(30))
    try:
        series = dict(re.findall(r'^temperature\{pid="(\d+)"\} (\S+)$', text(registry), re.M))
        assert series == {str(os.getpid()): "20.0", str(child): "30.0"}
    finally:
        stop()


def test_unknown_gauge_mode_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="sometimes"):
        Gauge("g", "G.", multiprocess_mode="sometimes", registry=Registry())


def test_unusable_directory_is_an_os_error(tmp_path):
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    with pytest.raises(OSError, match="PROMETHEUS_MULTIPROC_DIR"):
        Registry(multiprocess_dir=not_a_directory)


def test_an_enum_shows_the_state_the_answering_process_set(tmp_path):
    registry = Registry(multiprocess_dir=tmp_path)
    state = Enum("worker_state", "State.", states=["idle", "busy"], registry=registry)
    state.state("busy")
    in_child(lambda: state.state("idle"))
    out = registry.render(openmetrics=True).decode()
    assert "# TYPE worker_state stateset\n" in out
    assert 'worker_state{worker_state="idle"} 0.0\nworker_state{worker_state="busy"} 1.0\n' in out

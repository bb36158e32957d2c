"""The jobs route every web example has, and what Prometheus should make of its metrics.

`GET /jobs/<queue>?seconds=S` runs a job that takes S seconds and answers
`{"pid": <worker>, "seconds": <time the job took>}`. The app records that time in
`demo_job_duration_seconds{queue}`, a native histogram at schema 5 with classic buckets
beside it, and counts the job in `app.jobs.done_total{queue}`, a UTF-8 name; both take the
request's W3C `traceparent` as exemplar. Prometheus 3 stores the native histogram, the
exemplars and the name as they are; Prometheus 2.42 the classic buckets and
`app_jobs_done_total`.
"""

from __future__ import annotations

import json
import math
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence

from web import Reply

JOB_HISTOGRAM = "demo_job_duration_seconds"
#: The counter's name as Prometheus 3 stores it, and as Prometheus 2.42 gets it escaped.
JOBS_COUNTER = "app.jobs.done_total"
JOBS_COUNTER_ESCAPED = "app_jobs_done_total"
#: The examples' histogram: native buckets at this schema, and these classic bounds.
NATIVE_SCHEMA = 5
CLASSIC_BOUNDS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


@dataclass(frozen=True)
class Trace:
    trace_id: str
    span_id: str

    @staticmethod
    def new() -> "Trace":
        return Trace(secrets.token_hex(16), secrets.token_hex(8))

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


@dataclass(frozen=True)
class Job:
    """What one job request answered: the worker that ran it and the time it recorded."""

    pid: int
    seconds: float


def job_path(queue: str, seconds: float) -> str:
    return f"/jobs/{queue}?seconds={seconds}"


def parse_job(reply: Reply) -> Job:
    if reply.status != 200:
        raise AssertionError(f"a job answered {reply.status}: {reply.text[:200]}")
    answer = json.loads(reply.body)
    return Job(int(answer["pid"]), float(answer["seconds"]))


def run_concurrently(send: Callable[[int], Reply], count: int) -> list[Job]:
    """`count` job requests at once (`send(i)` sends the i-th), so they spread over workers:
    a busy gunicorn or puma worker accepts no more requests than it has threads."""
    with ThreadPoolExecutor(max_workers=count) as pool:
        return [parse_job(reply) for reply in pool.map(send, range(count))]


def native_bucket(value: float, schema: int = NATIVE_SCHEMA) -> tuple[float, float]:
    """The bounds (lower, upper] of the native bucket holding a positive `value`: bucket i
    spans (2^((i-1)/2^schema), 2^(i/2^schema)]."""
    index = math.ceil(math.log2(value) * 2**schema)
    return 2 ** ((index - 1) / 2**schema), 2 ** (index / 2**schema)


def classic_bucket(value: float, bounds: Sequence[float] = CLASSIC_BOUNDS) -> tuple[float, float]:
    lower = 0.0
    for upper in bounds:
        if value <= upper:
            return lower, upper
        lower = upper
    return lower, math.inf


def quantile_bucket(
    values: Sequence[float], q: float, bucket: Callable[[float], tuple[float, float]]
) -> tuple[float, float]:
    """Where `histogram_quantile(q, ...)` must land: the bucket of the observation at rank
    ceil(q * count), as Prometheus walks the cumulative counts to the first that reaches
    q * count and interpolates inside that bucket."""
    ordered = sorted(values)
    return bucket(ordered[max(math.ceil(q * len(ordered)), 1) - 1])

"""A tenant Flask app instrumented as the `gds-metrics` README shows.

`GDSMetrics().init_app(app)` serves `/metrics` (protected by the app GUID from
`VCAP_APPLICATION`) and records the default request metrics for every route; the custom
counters and the histogram below are an app's own metrics in the `prometheus_client`
call style.

`/jobs/<queue>?seconds=S` runs a job that takes S seconds and records how long it took in
a native histogram (with classic buckets beside it, for Prometheus 2), with the request's
W3C `traceparent` as exemplar, and counts it in `app.jobs.done_total`, a UTF-8 name that
Prometheus 3 stores as it is. Both are declared with `exemplars_across_processes=True`, so
a scrape answered by any gunicorn worker shows the newest exemplar of all of them.

`demo_spool_files` is read when Prometheus scrapes, by a collector: the files waiting in the
instance's spool directory (`SPOOL_DIR`, by default `spool` in the temporary directory).
When the directory cannot be read (a volume not mounted, a clean-up that removed it) the
collector raises: the scrape still answers 200 without that family, and the failure is
counted in `gds_metrics_collector_failures_total`, which the service's
TenantCollectorFailing alert watches.
"""

import os
import re
import tempfile
import time

from flask import Flask, abort, jsonify, request
from gds_metrics import GDSMetrics
from gds_metrics.metrics import REGISTRY, Counter, Histogram, NativeBuckets

app = Flask(__name__)
GDSMetrics().init_app(app)

USER_LOOKUPS = Counter("demo_user_lookups", "User pages served, by outcome.", ["outcome"])
JOB_DURATION = Histogram(
    "demo_job_duration_seconds",
    "Time a job took, by queue.",
    ["queue"],
    buckets=[0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    native=NativeBuckets(schema=5),
    exemplars_across_processes=True,
)
JOBS_DONE = Counter("app.jobs.done", "Jobs done, by queue.", ["queue"], exemplars_across_processes=True)
#: A job may take up to this long, so a request cannot hold a worker for longer.
MAX_JOB_SECONDS = 5.0
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}")

SPOOL_DIR = os.environ.get("SPOOL_DIR") or os.path.join(tempfile.gettempdir(), "spool")
os.makedirs(SPOOL_DIR, exist_ok=True)
SPOOL_FILES = ("gauge", "demo_spool_files", "Files waiting in the spool directory.", "", [])


def spool_families():
    """`demo_spool_files` now; raises when the spool directory cannot be read."""
    with os.scandir(SPOOL_DIR) as entries:
        waiting = sum(1 for entry in entries if entry.is_file())
    return [(*SPOOL_FILES, [([], float(waiting))])]


# Called at every scrape; the claim reserves the name now, so a clash fails at start.
REGISTRY.register_collector(spool_families, [SPOOL_FILES])

# The load benchmark asks for many custom series to measure scrapes of a realistic size.
EXTRA_SERIES = int(os.environ.get("DEMO_EXTRA_SERIES", "0"))
if EXTRA_SERIES:
    # More series than the default limit of 2,000 per metric, so the limit is raised.
    EXTRA_JOBS = Counter("demo_jobs_done", "Jobs done, by queue.", ["queue"], series_limit=EXTRA_SERIES)
    for queue in range(EXTRA_SERIES):
        EXTRA_JOBS.labels(f"queue-{queue}").inc(queue)


@app.route("/")
def index():
    return "Hello from the Flask example app\n"


@app.route("/users/<int:user_id>")
def user(user_id):
    USER_LOOKUPS.labels("found").inc()
    return f"User {user_id}\n"


@app.route("/boom")
def boom():
    # An unhandled exception: counted by class name and answered with 500.
    return str(1 // 0)


@app.route("/jobs/<queue>")
def job(queue):
    """Runs a job of `seconds` and records the time it took, traced by `traceparent`."""
    try:
        seconds = float(request.args.get("seconds", "0"))
    except ValueError:
        abort(400)
    if not 0 <= seconds <= MAX_JOB_SECONDS:
        abort(400)
    started = time.monotonic()
    time.sleep(seconds)
    took = time.monotonic() - started
    exemplar = trace_of(request.headers.get("traceparent", ""))
    JOB_DURATION.labels(queue).observe(took, exemplar=exemplar)
    JOBS_DONE.labels(queue).inc(1, exemplar=exemplar)
    return jsonify(pid=os.getpid(), seconds=took)


def trace_of(traceparent):
    """The trace and span ids of a W3C `traceparent` header, or no exemplar."""
    match = TRACEPARENT.fullmatch(traceparent.strip())
    return {"trace_id": match[1], "span_id": match[2]} if match else None

"""The example Flask app (`examples/flask-app/app.py`) on gds-metrics 0.2.4, the library
this project replaces: the same routes and custom series, written with 0.2.4's API (its
`gds_metrics.metrics` classes are `prometheus_client`'s). What 0.2.4 cannot express is
written as an app on it would: the job histogram has classic buckets only (no native
histogram), exemplars are left out (`prometheus_client` keeps none in multi-process mode),
the UTF-8 name `app.jobs.done` is `app_jobs_done`, and `series_limit` does not exist (0.2.4
keeps every label set). `make bench-e2e` scrapes it beside the example for the ratio.
"""

import os
import time

from flask import Flask, abort, jsonify, request
from gds_metrics import GDSMetrics
from gds_metrics.metrics import Counter, Histogram

app = Flask(__name__)
GDSMetrics().init_app(app)

USER_LOOKUPS = Counter("demo_user_lookups", "User pages served, by outcome.", ["outcome"])
JOB_DURATION = Histogram(
    "demo_job_duration_seconds",
    "Time a job took, by queue.",
    ["queue"],
    buckets=[0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
)
JOBS_DONE = Counter("app_jobs_done", "Jobs done, by queue.", ["queue"])
MAX_JOB_SECONDS = 5.0

EXTRA_SERIES = int(os.environ.get("DEMO_EXTRA_SERIES", "0"))
if EXTRA_SERIES:
    EXTRA_JOBS = Counter("demo_jobs_done", "Jobs done, by queue.", ["queue"])
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
    return str(1 // 0)


@app.route("/jobs/<queue>")
def job(queue):
    try:
        seconds = float(request.args.get("seconds", "0"))
    except ValueError:
        abort(400)
    if not 0 <= seconds <= MAX_JOB_SECONDS:
        abort(400)
    started = time.monotonic()
    time.sleep(seconds)
    took = time.monotonic() - started
    JOB_DURATION.labels(queue).observe(took)
    JOBS_DONE.labels(queue).inc(1)
    return jsonify(pid=os.getpid(), seconds=took)

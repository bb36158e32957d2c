"""A tenant Flask app instrumented as the `gds-metrics` README shows.

`GDSMetrics().init_app(app)` serves `/metrics` (protected by the app GUID from
`VCAP_APPLICATION`) and records the default request metrics for every route; the custom
counter below is an app's own metric in the `prometheus_client` call style.
"""

import os

from flask import Flask
from gds_metrics import GDSMetrics
from gds_metrics.metrics import Counter

app = Flask(__name__)
GDSMetrics().init_app(app)

USER_LOOKUPS = Counter("demo_user_lookups", "User pages served, by outcome.", ["outcome"])

# The load benchmark asks for many custom series to measure scrapes of a realistic size.
EXTRA_SERIES = int(os.environ.get("DEMO_EXTRA_SERIES", "0"))
if EXTRA_SERIES:
    # More series than the default limit of 2,000 per metric, so the limit is raised.
    JOBS_DONE = Counter("demo_jobs_done", "Jobs done, by queue.", ["queue"], series_limit=EXTRA_SERIES)
    for queue in range(EXTRA_SERIES):
        JOBS_DONE.labels(f"queue-{queue}").inc(queue)


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

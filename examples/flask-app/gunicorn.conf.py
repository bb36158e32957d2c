# gunicorn settings for the example app, as the gds-metrics README shows: importing
# `child_exit` lets the workers share one aggregated view of the metrics, and folds a
# worker's counts away when it exits so totals never go backwards.
from gds_metrics.gunicorn import child_exit  # noqa: F401

workers = 3

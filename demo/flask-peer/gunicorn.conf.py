# gunicorn settings for the 0.2.4 peer, as 0.2.4's README showed them, with the example's
# worker count.
from gds_metrics.gunicorn import child_exit  # noqa: F401

workers = 3

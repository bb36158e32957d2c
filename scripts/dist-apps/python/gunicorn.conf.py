"""The Python README's gunicorn config, on loopback at $PORT."""

import os

from gds_metrics.gunicorn import child_exit  # noqa: F401

bind = f"127.0.0.1:{os.environ['PORT']}"
workers = 2

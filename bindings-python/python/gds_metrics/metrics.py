"""Custom metrics in the ``prometheus_client`` call style.

``Counter``, ``Gauge``, ``Histogram`` and ``Summary`` take the same arguments as
``prometheus_client``'s (``name, documentation, labelnames``, ``namespace``,
``subsystem``, ``unit``, ``registry``, ``buckets=`` for histograms) and are served by
the same endpoint as the request metrics. Mistakes (a bad name, a duplicate, a wrong
number of label values, a negative counter increment) raise ``ValueError`` where they
are made.

    from gds_metrics.metrics import Counter

    EMAILS = Counter("emails_sent", "Emails sent.", ["template"])
    EMAILS.labels("welcome").inc()
"""

from __future__ import annotations

from typing import Any

from ._native import Counter, Gauge, Histogram, Registry, Summary, default_registry

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Counter",
    "Gauge",
    "Histogram",
    "REGISTRY",
    "Registry",
    "Summary",
    "generate_latest",
]

CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"
"""The content type of :func:`generate_latest`'s output."""


def generate_latest(registry: Registry | None = None) -> bytes:
    """The exposition of ``registry`` (default: ``REGISTRY``) in Prometheus text 0.0.4."""
    return (registry or default_registry()).render()


def __getattr__(name: str) -> Any:
    # REGISTRY is created on first use, not at import: a gunicorn config file imports
    # this package before it prepares the multi-process directory for the workers.
    if name == "REGISTRY":
        return default_registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

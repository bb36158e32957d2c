"""Prometheus metrics for Flask and WSGI apps on Cloud Foundry.

    from gds_metrics import GDSMetrics

    metrics = GDSMetrics()
    metrics.init_app(app)
"""

from ._native import Registry

__all__ = ["Registry"]

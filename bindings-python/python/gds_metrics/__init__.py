"""Prometheus metrics for Flask and WSGI apps on Cloud Foundry.

    from flask import Flask
    from gds_metrics import GDSMetrics

    app = Flask(__name__)
    metrics = GDSMetrics()
    metrics.init_app(app)

The app then serves its metrics at ``/metrics`` (or ``PROMETHEUS_METRICS_PATH``),
protected by the app GUID as a bearer token on Cloud Foundry, and counts every request
in ``http_server_requests_total``, ``http_server_request_duration_seconds`` and
``http_server_exceptions_total``. Custom metrics: :mod:`gds_metrics.metrics`; gunicorn:
:mod:`gds_metrics.gunicorn`; other WSGI frameworks: :mod:`gds_metrics.wsgi`.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Optional

from ._native import Counter, Endpoint, Gauge, Histogram, Registry, Summary
from .wsgi import Environ, StartResponse, WSGIApp, serve_scrape, shared_endpoint, status_code

_ROUTE_KEY = "gds_metrics.flask_route"

# The metric classes are importable from here too, as they were in gds-metrics 0.2.
__all__ = ["Counter", "GDSMetrics", "Gauge", "Histogram", "Registry", "Summary"]


class GDSMetrics:
    """The Flask extension: the metrics endpoint plus the default request metrics.

    Settings are read from the environment once, here; keyword arguments win over it:
    ``application_id`` (the bearer token, else ``VCAP_APPLICATION``), ``auth_enabled``
    (else ``METRICS_BASIC_AUTH``), ``metrics_path`` (else ``PROMETHEUS_METRICS_PATH``).
    ``registry`` picks the registry to serve (default: the one custom metrics join).
    A bad setting raises ``ValueError`` naming the variable.
    """

    def __init__(self, *, registry: Optional[Registry] = None, **settings: Any) -> None:
        self.endpoint: Endpoint = shared_endpoint(registry, **settings)

    @property
    def metrics_path(self) -> str:
        """The path the endpoint answers on."""
        return self.endpoint.metrics_path

    def init_app(self, app: Any) -> None:
        """Serves the endpoint in front of ``app`` and counts its requests.

        The endpoint is answered before Flask's routing and ``before_request`` hooks (a
        site-wide login requirement never applies to it), and request timing covers
        everything Flask does for a request. Exceptions are counted by class name.
        """
        from flask import request
        from flask.signals import got_request_exception

        endpoint = self.endpoint
        app.wsgi_app = _Instrumented(app.wsgi_app, endpoint)

        def remember_route(error: Optional[BaseException]) -> None:
            current = request._get_current_object()
            rule = current.url_rule
            current.environ[_ROUTE_KEY] = rule.rule if rule is not None else None

        def count_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
            endpoint.exception(type(exception).__name__)

        app.teardown_request(remember_route)
        got_request_exception.connect(count_exception, app, weak=False)


class _Instrumented:
    """The outermost layer of the Flask app: answers scrapes, and records every other
    request once Flask has answered it.

    The route template is left in the environ by a ``teardown_request`` hook (which
    runs even when an exception escapes), the status comes from the app's
    ``start_response`` call; a request whose exception escaped Flask
    (``PROPAGATE_EXCEPTIONS``) is recorded as a 500.
    """

    def __init__(self, app: WSGIApp, endpoint: Endpoint) -> None:
        self.app = app
        self.endpoint = endpoint

    def __call__(self, environ: Environ, start_response: StartResponse) -> Any:
        if self.endpoint.matches(environ.get("PATH_INFO", "")):
            return serve_scrape(self.endpoint, environ, start_response)
        started = perf_counter()
        status = [500]

        def remember_status(status_line: str, headers: Any, *exc_info: Any) -> Any:
            status[0] = status_code(status_line)
            return start_response(status_line, headers, *exc_info)

        try:
            return self.app(environ, remember_status)
        finally:
            self.endpoint.record(
                environ.get("REQUEST_METHOD", ""),
                environ.get("HTTP_HOST", ""),
                environ.get(_ROUTE_KEY),
                status[0],
                perf_counter() - started,
            )

"""Prometheus metrics for Flask, WSGI, ASGI and Django apps on Cloud Foundry.

    from flask import Flask
    from gds_metrics import GDSMetrics

    app = Flask(__name__)
    metrics = GDSMetrics()
    metrics.init_app(app)

The app then serves its metrics at ``/metrics`` (or ``PROMETHEUS_METRICS_PATH``),
protected by the app GUID as a bearer token on Cloud Foundry, and counts every request
in ``http_server_requests_total``, ``http_server_request_duration_seconds`` and
``http_server_exceptions_total``. Custom metrics: :mod:`gds_metrics.metrics`; gunicorn:
:mod:`gds_metrics.gunicorn`; other frameworks: :mod:`gds_metrics.wsgi`,
:mod:`gds_metrics.asgi`, :mod:`gds_metrics.django`.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Optional

from ._native import ConfigurationError, ConflictError, Counter, Endpoint, Gauge, Histogram, NativeBuckets, Registry, Summary
from .version import __version__
from .wsgi import EXCEPTION_KEY, ROUTE_KEY, Recorder, request_target, serve_scrape

_STARTED_KEY = "gds_metrics.started"
_SCRAPE_KEY = "gds_metrics.scrape"

# The metric classes are importable from here too, as they were in gds-metrics 0.2.
__all__ = [
    "ConfigurationError",
    "ConflictError",
    "Counter",
    "GDSMetrics",
    "Gauge",
    "Histogram",
    "NativeBuckets",
    "Registry",
    "Summary",
]


class GDSMetrics:
    """The Flask extension: the metrics endpoint plus the default request metrics.

    Settings are read from the environment when the extension is created, for this
    instance only; keyword arguments win over it: ``application_id`` (the bearer token,
    else ``VCAP_APPLICATION``), ``auth_enabled`` (else ``METRICS_BASIC_AUTH``),
    ``metrics_path`` (else ``PROMETHEUS_METRICS_PATH``), ``trace_exemplars`` (else
    ``METRICS_TRACE_EXEMPLARS``; on: a sampled W3C ``traceparent`` becomes the exemplar of
    the request's metrics), ``request_native_histogram`` (else
    ``METRICS_REQUEST_NATIVE_HISTOGRAM``; on: the request duration keeps native buckets
    beside its classic ones). ``registry`` picks the registry
    to serve (default: the one custom metrics join). A bad setting raises
    :class:`ConfigurationError` naming the variable.
    """

    def __init__(self, *, registry: Optional[Registry] = None, **settings: Any) -> None:
        self.endpoint: Endpoint = Endpoint(registry, **settings)

    @property
    def registry(self) -> Registry:
        """The registry the endpoint serves."""
        return self.endpoint.registry

    @property
    def metrics_path(self) -> str:
        """The path the endpoint answers on."""
        return self.endpoint.metrics_path

    def metrics_endpoint(self) -> Any:
        """The scrape as a Flask response, for the current request (0.2's view function,
        for apps that route to it themselves: ``add_url_rule(metrics.metrics_path,
        "metrics", metrics.metrics_endpoint)``). The core still decides the exact path,
        auth, format and compression, and records the scrape."""
        from flask import Response, request

        request.environ[_SCRAPE_KEY] = True
        status, headers, body = _scrape(self.endpoint, request.environ)
        return Response(body, status=status, headers=headers)

    # The three hooks 0.2's ``init_app`` connected, for apps that connect them themselves
    # (a subclass overriding ``init_app``). ``init_app`` here does not use them: it records
    # each request once its body has been read, closed or failed to send. Connect either,
    # never both.

    def before_request(self, *args: Any, **kwargs: Any) -> None:
        """Flask ``before_request`` hook: the request starts now."""
        from flask import request

        request.environ[_STARTED_KEY] = perf_counter()

    def teardown_request(self, sender: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Flask ``request_finished`` signal: records the request (timed until Flask made
        the response, or zero seconds when :meth:`before_request` did not run; a scrape
        answered by :meth:`metrics_endpoint` is recorded there)."""
        from flask import request

        environ = request.environ
        if not environ.get(_SCRAPE_KEY):
            rule = request.url_rule
            now = perf_counter()
            started = environ.get(_STARTED_KEY, now)
            self.endpoint.record(
                request.method,
                environ.get("HTTP_HOST", ""),
                request_target(environ)[0],
                True,
                rule.rule if rule is not None else None,
                response.status_code,
                now - started,
                environ.get(EXCEPTION_KEY),
                False,
                environ.get("HTTP_TRACEPARENT"),
            )
        return response

    def handle_exception(self, sender: Any, exception: BaseException, *args: Any, **kwargs: Any) -> None:
        """Flask ``got_request_exception`` signal: the exception Flask turns into a 500."""
        from flask import request

        request.environ[EXCEPTION_KEY] = exception

    def init_app(self, app: Any) -> None:
        """Serves the endpoint in front of ``app`` and records its requests.

        The endpoint is answered before Flask's routing and ``before_request`` hooks (a
        site-wide login requirement never applies to it). Each request is recorded once,
        by the time its response body has been read in full, closed, or failed to send
        (a test client that reads the response without closing it sees it counted), with
        the route template Flask matched, and the exception Flask handled or that escaped
        it.
        """
        from flask import request
        from flask.signals import got_request_exception

        app.wsgi_app = Recorder(app.wsgi_app, self.endpoint, has_router=True)

        def remember_route(error: Optional[BaseException]) -> None:
            current = request._get_current_object()
            rule = current.url_rule
            current.environ[ROUTE_KEY] = rule.rule if rule is not None else None

        def remember_exception(sender: Any, exception: BaseException, **extra: Any) -> None:
            request.environ[EXCEPTION_KEY] = exception

        app.teardown_request(remember_route)
        got_request_exception.connect(remember_exception, app, weak=False)


def _scrape(endpoint: Endpoint, environ: Any) -> Any:
    answer: list = []

    def start_response(status: str, headers: Any) -> None:
        answer.extend([int(status.split(" ", 1)[0]), headers])

    body = serve_scrape(endpoint, environ, start_response)
    return answer[0], answer[1], b"".join(body)

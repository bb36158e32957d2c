"""The metrics endpoint and request metrics for any WSGI app (Pyramid, Bottle, plain WSGI).

    from gds_metrics.wsgi import GDSMetricsMiddleware

    application = GDSMetricsMiddleware(application)

Requests for the metrics path, exactly as the client sent it (``RAW_URI`` or
``REQUEST_URI``, below ``SCRIPT_NAME``), are answered by the core (auth, format
negotiation, gzip); every other request goes to the app untouched and is recorded once
its response body has been sent. Plain WSGI has no router: the core labels such requests
by their path with ids collapsed, unless the app names its route template by setting
``environ["gds_metrics.route"]`` while handling the request.

The Flask extension uses the same recorder, with Flask's router.
"""

from __future__ import annotations

from http import HTTPStatus
from time import perf_counter
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from ._native import Endpoint, Registry

__all__ = ["GDSMetricsMiddleware", "ROUTE_KEY", "EXCEPTION_KEY"]

ROUTE_KEY = "gds_metrics.route"
"""The environ key an app or framework sets to the route template that handled a request."""

EXCEPTION_KEY = "gds_metrics.exception"
"""The environ key a framework sets to an exception it turned into a response itself."""

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

NO_RESPONSE_STATUS = 500
"""What a server answers when the app never started a response (WSGI and ASGI alike)."""


def request_target(environ: Environ) -> Tuple[str, str]:
    """The request target as the client sent it, and the prefix the app is mounted at.

    gunicorn and Werkzeug give the raw target in ``RAW_URI``, uWSGI and mod_wsgi in
    ``REQUEST_URI``. A server that gives neither (``wsgiref``) has decoded the path
    already, so ``SCRIPT_NAME + PATH_INFO`` is the closest there is.
    """
    mount = environ.get("SCRIPT_NAME", "")
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw is None:
        raw = mount + environ.get("PATH_INFO", "")
    return raw, mount


def request_headers(environ: Environ) -> List[Tuple[str, str]]:
    """The request headers of a WSGI environ, as ``(name, value)`` pairs."""
    return [(key[5:].replace("_", "-"), value) for key, value in environ.items() if key.startswith("HTTP_")]


def serve_scrape(endpoint: Endpoint, environ: Environ, start_response: StartResponse) -> List[bytes]:
    """Answers a request for the metrics path with the core's response."""
    target, mount = request_target(environ)
    status, headers, body = endpoint.handle(
        environ.get("REQUEST_METHOD", "GET"), target, request_headers(environ), mount
    )
    # A HEAD answer has no body, and its length is not that of the GET body: left out.
    if body or status != 200:
        headers.append(("content-length", str(len(body))))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]


def status_code(status: str) -> int:
    """The numeric code of a WSGI status line (``"404 Not Found"``)."""
    return int(status.split(" ", 1)[0])


class Recorder:
    """The outermost WSGI layer: answers scrapes, and records every other request once its
    response body has been sent (``close()``), so the duration covers streaming it.

    ``has_router`` says whether the framework routes requests (Flask does, plain WSGI
    does not); the route template, if any, is read from ``environ[ROUTE_KEY]`` and an
    exception the framework handled from ``environ[EXCEPTION_KEY]``. An exception that
    escapes the app is reported as escaped. The core decides every label.
    """

    def __init__(self, app: WSGIApp, endpoint: Endpoint, has_router: bool) -> None:
        self.app = app
        self.endpoint = endpoint
        self.has_router = has_router

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        target, mount = request_target(environ)
        if self.endpoint.matches(target, mount):
            return serve_scrape(self.endpoint, environ, start_response)
        started = perf_counter()
        status = [NO_RESPONSE_STATUS]

        def remember_status(status_line: str, headers: Any, *exc_info: Any) -> Any:
            status[0] = status_code(status_line)
            return start_response(status_line, headers, *exc_info)

        def finish(escaped: Optional[BaseException]) -> None:
            self.endpoint.record(
                environ.get("REQUEST_METHOD", ""),
                environ.get("HTTP_HOST", ""),
                target,
                self.has_router,
                environ.get(ROUTE_KEY),
                status[0],
                perf_counter() - started,
                escaped if escaped is not None else environ.get(EXCEPTION_KEY),
                escaped is not None,
                environ.get("HTTP_TRACEPARENT"),
            )

        try:
            body = self.app(environ, remember_status)
        except BaseException as error:
            finish(error)
            raise
        return _Recorded(body, finish)


class _Recorded:
    """The app's response body, recording the request once the server has sent it (or
    once sending it failed)."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[Optional[BaseException]], None]) -> None:
        self._body = body
        self._finish: Optional[Callable[[Optional[BaseException]], None]] = finish

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except BaseException as error:
            self._done(error)
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._done(None)

    def _done(self, error: Optional[BaseException]) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish(error)


class GDSMetricsMiddleware(Recorder):
    """Serves the metrics endpoint in front of ``app`` and records the app's requests.

    Settings are read when the middleware is created; keyword arguments override the
    environment: ``application_id``, ``auth_enabled``, ``metrics_path``,
    ``instance_index``, ``trace_exemplars``; ``registry`` picks the registry to serve (default: the one custom
    metrics join). A bad setting raises ``gds_metrics.ConfigurationError`` naming it.
    """

    def __init__(self, app: WSGIApp, *, registry: Optional[Registry] = None, **settings: Any) -> None:
        super().__init__(app, Endpoint(registry, **settings), has_router=False)

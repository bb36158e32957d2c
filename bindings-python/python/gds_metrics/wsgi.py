"""The metrics endpoint and request metrics for any WSGI app (Pyramid, Bottle, plain WSGI).

    from gds_metrics.wsgi import GDSMetricsMiddleware

    application = GDSMetricsMiddleware(application)

Requests for the metrics path, exactly as the client sent it (``RAW_URI`` or
``REQUEST_URI``, below ``SCRIPT_NAME``), are answered by the core (auth, format
negotiation, gzip); every other request goes to the app untouched and is recorded once
its response body has been read in full, closed, or failed to send. Plain WSGI has no
router: the core labels such requests by their path with ids collapsed, unless the app
names its route template by setting ``environ["gds_metrics.route"]`` while handling the
request.

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
    response body has been read in full, closed, or failed to send, whichever comes first
    (so the duration covers producing the body, and a consumer that reads the body without
    closing it, such as Flask's test client, still sees the request counted).

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
        answer = _Answer()

        def remember_answer(status_line: str, headers: Any, *exc_info: Any) -> Any:
            answer.started(status_line, headers)
            return start_response(status_line, headers, *exc_info)

        def finish(escaped: Optional[BaseException]) -> None:
            self.endpoint.record(
                environ.get("REQUEST_METHOD", ""),
                environ.get("HTTP_HOST", ""),
                target,
                self.has_router,
                environ.get(ROUTE_KEY),
                answer.status,
                perf_counter() - started,
                escaped if escaped is not None else environ.get(EXCEPTION_KEY),
                escaped is not None,
                environ.get("HTTP_TRACEPARENT"),
            )

        try:
            body = self.app(environ, remember_answer)
        except BaseException as error:
            finish(error)
            raise
        return _Recorded(body, answer, finish)


class _Answer:
    """The status and declared body length the app answered with, once it has."""

    def __init__(self) -> None:
        self.status = NO_RESPONSE_STATUS
        self.length: Optional[int] = None

    def started(self, status_line: str, headers: Any) -> None:
        self.status = status_code(status_line)
        self.length = _content_length(headers)


def _content_length(headers: Any) -> Optional[int]:
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _Recorded:
    """The app's response body, recording the request once: when the app has produced all
    of it (its declared ``Content-Length``, or the end of its iterator), when the consumer
    closes it, or when sending it failed. A consumer that abandons the body (a client gone,
    a test client's response garbage-collected: ``GeneratorExit``) is not the app's
    exception: the request keeps the status the app answered."""

    def __init__(
        self, body: Iterable[bytes], answer: _Answer, finish: Callable[[Optional[BaseException]], None]
    ) -> None:
        self._body = body
        self._answer = answer
        self._finish: Optional[Callable[[Optional[BaseException]], None]] = finish

    def __iter__(self) -> Iterator[bytes]:
        produced = 0
        try:
            for chunk in self._body:
                produced += len(chunk)
                length = self._answer.length
                if length is not None and produced >= length:
                    # All of the declared body: a consumer may never ask for more.
                    self._done(None)
                yield chunk
        except GeneratorExit:
            self._done(None)
            raise
        except BaseException as error:
            self._done(error)
            raise
        self._done(None)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        except BaseException as error:
            self._done(error)
            raise
        self._done(None)

    def _done(self, error: Optional[BaseException]) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish(error)


class GDSMetricsMiddleware(Recorder):
    """Serves the metrics endpoint in front of ``app`` and records the app's requests.

    Settings are read when the middleware is created; keyword arguments override the
    environment: ``application_id``, ``auth_enabled``, ``metrics_path``,
    ``instance_index``, ``trace_exemplars``, ``request_native_histogram``; ``registry`` picks the registry to serve (default: the one custom
    metrics join). A bad setting raises ``gds_metrics.ConfigurationError`` naming it.
    """

    def __init__(self, app: WSGIApp, *, registry: Optional[Registry] = None, **settings: Any) -> None:
        super().__init__(app, Endpoint(registry, **settings), has_router=False)

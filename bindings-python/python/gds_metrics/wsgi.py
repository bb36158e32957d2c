"""The metrics endpoint and request metrics for any WSGI app (Django, Pyramid, Bottle).

    from gds_metrics.wsgi import GDSMetricsMiddleware

    application = GDSMetricsMiddleware(application)

Requests for the metrics path are answered by the core (auth, format negotiation, gzip);
every other request goes to the app untouched and is counted in the default request
metrics. Plain WSGI has no router, so the ``path`` label is the request path with numeric
ids and UUIDs collapsed (``/users/:id``), unless the app names its route template by
setting ``environ["gds_metrics.route"]`` while handling the request.
"""

from __future__ import annotations

from http import HTTPStatus
from time import perf_counter
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from ._native import Endpoint, Registry, collapse_ids

__all__ = ["GDSMetricsMiddleware", "ROUTE_KEY"]

ROUTE_KEY = "gds_metrics.route"
"""The environ key an app sets to the route template that handled a request."""

Environ = Dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

# Values keep their registry alive, so its id() in the key is never reused.
_shared: Dict[Tuple[Any, ...], Tuple[Optional[Registry], Endpoint]] = {}


def shared_endpoint(registry: Optional[Registry], **settings: Any) -> Endpoint:
    """The endpoint for ``registry`` and ``settings``, created once per process.

    Apps built by a factory (and their test suites) call ``init_app`` many times; they
    share one endpoint, so the request metrics are registered once, as they were when
    they were module-level globals.
    """
    key = (id(registry), tuple(sorted(settings.items())))
    if key not in _shared:
        _shared[key] = (registry, Endpoint(registry, **settings))
    return _shared[key][1]


def request_headers(environ: Environ) -> List[Tuple[str, str]]:
    """The request headers of a WSGI environ, as ``(name, value)`` pairs."""
    return [(key[5:].replace("_", "-"), value) for key, value in environ.items() if key.startswith("HTTP_")]


def serve_scrape(endpoint: Endpoint, environ: Environ, start_response: StartResponse) -> List[bytes]:
    """Answers a request for the metrics path with the core's response."""
    status, headers, body = endpoint.handle(
        environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", ""), request_headers(environ)
    )
    if body or status != 200:
        headers.append(("content-length", str(len(body))))
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]


def status_code(status: str) -> int:
    """The numeric code of a WSGI status line (``"404 Not Found"``)."""
    return int(status.split(" ", 1)[0])


class GDSMetricsMiddleware:
    """Serves the metrics endpoint in front of ``app`` and counts the app's requests.

    Keyword arguments override the environment: ``application_id``, ``auth_enabled``,
    ``metrics_path``; ``registry`` picks the registry to serve (default: the one custom
    metrics join).
    """

    def __init__(self, app: WSGIApp, *, registry: Optional[Registry] = None, **settings: Any) -> None:
        self.app = app
        self.endpoint = shared_endpoint(registry, **settings)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if self.endpoint.matches(environ.get("PATH_INFO", "")):
            return serve_scrape(self.endpoint, environ, start_response)
        started = perf_counter()
        seen: List[str] = []

        def remember_status(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen[:] = [status]
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, remember_status)
        except Exception as error:
            self._finish(environ, 500, started, error)
            raise
        return _Recorded(body, lambda error: self._finish(environ, _code(seen, error), started, error))

    def _finish(self, environ: Environ, status: int, started: float, error: Optional[BaseException]) -> None:
        if error is not None:
            self.endpoint.exception(type(error).__name__)
        route = environ.get(ROUTE_KEY) or collapse_ids(environ.get("PATH_INFO", "") or "/")
        self.endpoint.record(
            environ.get("REQUEST_METHOD", ""), environ.get("HTTP_HOST", ""), route, status, perf_counter() - started
        )


def _code(seen: List[str], error: Optional[BaseException]) -> int:
    if error is not None or not seen:
        return 500
    return status_code(seen[0])


class _Recorded:
    """The app's response body, recording the request once the server has sent it (or
    once sending it failed): the duration then covers streaming the body too."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[Optional[BaseException]], None]) -> None:
        self._body = body
        self._finish: Optional[Callable[[Optional[BaseException]], None]] = finish

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._body
        except Exception as error:
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

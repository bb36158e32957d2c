"""The metrics endpoint and request metrics for Django.

In ``settings.py``, first in the list so that scrapes are answered before any login or
session middleware runs:

    MIDDLEWARE = [
        "gds_metrics.django.GDSMetricsMiddleware",
        ...
    ]

Settings come from the environment when Django loads the middleware (once per process);
an optional ``GDS_METRICS = {"metrics_path": ..., "auth_enabled": ..., "application_id":
..., "trace_exemplars": ..., "request_native_histogram": ...}`` in Django's settings overrides it. Requests for the
metrics path, exactly as the client sent it (under WSGI ``RAW_URI`` or ``REQUEST_URI`` from the server, below
``SCRIPT_NAME``; under ASGI the scope's ``raw_path``, below ``root_path``), are answered
by the core, so ``/%6detrics`` is the app's under either. Every other request is recorded
once its response has been sent and closed (so a ``StreamingHttpResponse`` is timed to its
end), labelled by ``request.resolver_match.route``, the URL pattern that matched
(``users/<int:user_id>``); an exception a view raised, which Django turns into a 500, is
counted by its class name.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any, Callable, Optional, Tuple

from . import asgi, wsgi
from ._native import Endpoint
from .wsgi import request_headers

__all__ = ["GDSMetricsMiddleware"]

_EXCEPTION_ATTRIBUTE = "_gds_metrics_exception"


def _request_target(request: Any) -> Tuple[str, str]:
    """The raw request target and mount: from the ASGI scope when Django runs under ASGI
    (its ``META`` then holds only the decoded path), else from the WSGI environ."""
    scope = getattr(request, "scope", None)
    if scope is not None:
        return asgi.request_target(scope)
    return wsgi.request_target(request.META)


class GDSMetricsMiddleware:
    """Django middleware: the metrics endpoint, and every request recorded."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        from django.conf import settings

        self.get_response = get_response
        self.endpoint = Endpoint(**getattr(settings, "GDS_METRICS", {}))

    def __call__(self, request: Any) -> Any:
        target, mount = _request_target(request)
        if self.endpoint.matches(target, mount):
            return self._scrape(request, target, mount)
        started = perf_counter()
        response = self.get_response(request)
        response._resource_closers.append(lambda: self._finish(request, target, response, started))
        return response

    def process_exception(self, request: Any, exception: BaseException) -> None:
        """Remembers the exception a view raised; Django then makes it a 500 response."""
        setattr(request, _EXCEPTION_ATTRIBUTE, exception)

    def _scrape(self, request: Any, target: str, mount: str) -> Any:
        from django.http import HttpResponse

        status, headers, body = self.endpoint.handle(request.method, target, request_headers(request.META), mount)
        response = HttpResponse(body, status=status)
        for name, value in headers:
            response[name] = value
        return response

    def _finish(self, request: Any, target: str, response: Any, started: float) -> None:
        match = getattr(request, "resolver_match", None)
        exception: Optional[BaseException] = getattr(request, _EXCEPTION_ATTRIBUTE, None)
        self.endpoint.record(
            request.method,
            request.META.get("HTTP_HOST", ""),
            target,
            True,
            getattr(match, "route", None),
            response.status_code,
            perf_counter() - started,
            exception,
            False,
            request.META.get("HTTP_TRACEPARENT"),
        )

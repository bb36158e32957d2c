"""The metrics endpoint and request metrics for ASGI apps (Starlette, FastAPI, any ASGI 3
app).

    from fastapi import FastAPI
    from gds_metrics.asgi import GDSMetricsMiddleware

    app = FastAPI()
    app.add_middleware(GDSMetricsMiddleware)   # or: application = GDSMetricsMiddleware(app)

Requests for the metrics path, exactly as the client sent it (``raw_path`` and the query
string, below ``root_path``), are answered by the core; the render runs in a worker
thread with the GIL released, so the event loop keeps serving. Every other HTTP request
goes to the app and is recorded once its last body chunk has been sent, so a streaming
response is timed to its end, with the route template the router matched
(``scope["route"].path``, set by Starlette's and FastAPI's routers). Lifespan and
websocket events pass through untouched.
"""

from __future__ import annotations

import asyncio
from time import perf_counter
from typing import Any, Awaitable, Callable, Dict, List, MutableMapping, Optional, Tuple

from ._native import Endpoint, Registry
from .wsgi import NO_RESPONSE_STATUS

__all__ = ["GDSMetricsMiddleware"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]



def request_target(scope: Scope) -> Tuple[str, str]:
    """The request target as the client sent it, and the prefix the app is mounted at."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    query = scope.get("query_string", b"")
    target = raw + b"?" + query if query else raw
    return target.decode("latin-1"), scope.get("root_path", "")


def _headers(scope: Scope) -> List[Tuple[str, bytes]]:
    return [(name.decode("latin-1"), value) for name, value in scope.get("headers", [])]


def _host(scope: Scope) -> bytes:
    return next((value for name, value in scope.get("headers", []) if name.lower() == b"host"), b"")


def _traceparent(scope: Scope) -> bytes:
    """Every ``traceparent`` header sent, joined as WSGI joins them (two are invalid)."""
    return b",".join(value for name, value in scope.get("headers", []) if name.lower() == b"traceparent")


class GDSMetricsMiddleware:
    """Serves the metrics endpoint in front of ``app`` and records the app's requests.

    Settings are read when the middleware is created; keyword arguments override the
    environment: ``application_id``, ``auth_enabled``, ``metrics_path``,
    ``instance_index``, ``trace_exemplars``, ``request_native_histogram``; ``registry`` picks the registry to serve.
    """

    def __init__(self, app: ASGIApp, *, registry: Optional[Registry] = None, **settings: Any) -> None:
        self.app = app
        self.endpoint = Endpoint(registry, **settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target, mount = request_target(scope)
        if self.endpoint.matches(target, mount):
            await self._scrape(scope, target, mount, send)
            return
        await self._recorded(scope, target, receive, send)

    async def _scrape(self, scope: Scope, target: str, mount: str, send: Send) -> None:
        loop = asyncio.get_running_loop()
        status, headers, body = await loop.run_in_executor(
            None, self.endpoint.handle, scope["method"], target, _headers(scope), mount
        )
        if body or status != 200:
            headers.append(("content-length", str(len(body))))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _recorded(self, scope: Scope, target: str, receive: Receive, send: Send) -> None:
        """Runs the app and records the request when it is done. The duration ends when the
        last body chunk has been sent (background tasks that run after it are not timed);
        an exception the app raises, also after a response (Starlette's error middleware
        sends a 500 and then re-raises), is reported as escaped."""
        started = perf_counter()
        state: Dict[str, Any] = {"status": NO_RESPONSE_STATUS, "ended": None}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                state["ended"] = perf_counter()

        def finish(exception: Optional[BaseException]) -> None:
            route = scope.get("route")
            self.endpoint.record(
                scope["method"],
                _host(scope),
                target,
                "router" in scope,
                getattr(route, "path", None),
                state["status"],
                (state["ended"] or perf_counter()) - started,
                exception,
                exception is not None,
                _traceparent(scope),
            )

        try:
            await self.app(scope, receive, watch)
        except BaseException as error:
            finish(error)
            raise
        finish(None)

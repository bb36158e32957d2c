"""Context managers and decorators behind ``time()``, ``count_exceptions()`` and
``track_inprogress()``.

Each wraps a bound method of a native metric (``observe``, ``set``, ``inc``), so the
metric does the counting and these only decide when. Like ``prometheus_client``'s, each
object works both as a ``with`` block and as a decorator; a decorated function gets a
fresh context per call, so it is safe to call from several threads at once.
"""

from __future__ import annotations

import functools
from time import perf_counter
from typing import Any, Callable, Optional, Tuple, Type, TypeVar, Union

F = TypeVar("F", bound=Callable[..., Any])

ExceptionTypes = Union[Type[BaseException], Tuple[Type[BaseException], ...]]


class _Decorating:
    """Turns a context manager class into a decorator: each call runs in a fresh one."""

    def _fresh(self) -> "_Decorating":
        raise NotImplementedError

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapped  # type: ignore[return-value]


class Timer(_Decorating):
    """Passes the seconds a block took to ``record`` (``observe`` or ``set``)."""

    def __init__(self, record: Callable[[float], None]) -> None:
        self._record = record
        self._start = 0.0

    def _fresh(self) -> "Timer":
        return Timer(self._record)

    def __enter__(self) -> "Timer":
        self._start = perf_counter()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._record(max(perf_counter() - self._start, 0.0))


class ExceptionCounter(_Decorating):
    """Calls ``inc`` when the block raises ``exception``; the exception propagates."""

    def __init__(self, inc: Callable[[], None], exception: Optional[ExceptionTypes] = None) -> None:
        self._inc = inc
        self._exception: ExceptionTypes = Exception if exception is None else exception

    def _fresh(self) -> "ExceptionCounter":
        return self

    def __enter__(self) -> "ExceptionCounter":
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> bool:
        if isinstance(exc, self._exception):
            self._inc()
        return False


class InProgressTracker(_Decorating):
    """Adds one to a gauge while the block runs."""

    def __init__(self, gauge: Any) -> None:
        self._gauge = gauge

    def _fresh(self) -> "InProgressTracker":
        return self

    def __enter__(self) -> "InProgressTracker":
        self._gauge.inc()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._gauge.dec()

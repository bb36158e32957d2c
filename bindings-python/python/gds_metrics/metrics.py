"""Custom metrics in the ``prometheus_client`` call style.

``Counter``, ``Gauge``, ``Histogram``, ``Summary``, ``Info`` and ``Enum`` take the same
arguments as ``prometheus_client``'s (``name, documentation, labelnames``, ``namespace``,
``subsystem``, ``unit``, ``registry``, ``buckets=`` for histograms, ``states=`` for
enums) and are served by the same endpoint as the request metrics. Mistakes (a bad name, a
duplicate, a wrong number of label values, a negative counter increment) raise
``ValueError`` where they are made.

Every metric keeps at most ``series_limit`` label sets (keyword argument; default: its
registry's limit, 2,000 unless :func:`set_series_limit` changed it); label sets beyond it
are recorded in one series whose labels are all ``__overflow__``, and
``gds_metrics_series_refused_total{family}`` counts them.

    from gds_metrics.metrics import Counter

    EMAILS = Counter("emails_sent", "Emails sent.", ["template"])
    EMAILS.labels("welcome").inc()

A histogram keeps native (sparse, exponential) buckets, which Prometheus 3 scrapes in
protobuf, with ``native=True`` or ``native=NativeBuckets(schema=, zero_threshold=,
max_buckets=, reset_after=)``; it then has classic buckets only when ``buckets=`` gives
them. ``observe(v, exemplar={"trace_id": ...})`` and ``inc(amount, exemplar={...})``
attach an exemplar (at most 128 characters of names and values together); in
multi-process mode a metric declared with ``exemplars_across_processes=True`` shows the
newest exemplar of any process.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._native import Counter, Gauge, Histogram, NativeBuckets, Registry, Summary, check_family, default_registry, metric_name

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Counter",
    "Enum",
    "Gauge",
    "Histogram",
    "Info",
    "NativeBuckets",
    "REGISTRY",
    "Registry",
    "Summary",
    "generate_latest",
    "set_series_limit",
]

CONTENT_TYPE_LATEST = "text/plain; version=0.0.4; charset=utf-8"
"""The content type of :func:`generate_latest`'s output."""

_DEFAULT: Any = object()


def generate_latest(registry: Optional[Registry] = None) -> bytes:
    """The exposition of ``registry`` (default: ``REGISTRY``) in Prometheus text 0.0.4."""
    return (registry or default_registry()).render()


def set_series_limit(limit: int, registry: Optional[Registry] = None) -> None:
    """Sets the series limit of every metric of ``registry`` (default: ``REGISTRY``)
    that does not set its own ``series_limit``."""
    (registry or default_registry()).series_limit = limit


def __getattr__(name: str) -> Any:
    # REGISTRY is created on first use, not at import: a gunicorn config file imports
    # this package before it prepares the multi-process directory for the workers.
    if name == "REGISTRY":
        return default_registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _ScrapeTimeMetric:
    """A metric whose families are written at scrape time from values kept here, in this
    process only (``Info`` and ``Enum`` have no multi-process aggregate: under a pre-fork
    server the answering worker's values are served, where ``prometheus_client``'s
    multi-process collector leaves them out)."""

    _kind = ""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str] = (),
        namespace: str = "",
        subsystem: str = "",
        unit: str = "",
        registry: Optional[Registry] = _DEFAULT,
    ) -> None:
        self._name = metric_name(name, namespace, subsystem, unit)
        self._documentation = documentation
        self._unit = unit
        self._labelnames = [str(label) for label in labelnames]
        self._lock = threading.Lock()
        self._values: Dict[Tuple[str, ...], Any] = {}
        self._labelvalues: Optional[Tuple[str, ...]] = None
        self._check_values()
        claim = (self._kind, self._name, documentation, unit, list(self._labelnames))
        target = default_registry() if registry is _DEFAULT else registry
        if target is not None:
            target.register_collector(self._families, [claim])
        else:
            Registry().register_collector(self._families, [claim])  # validates the name and labels

    def _check_values(self) -> None:
        """Raises, before the metric is registered, a mistake in what it was given that
        the core would otherwise meet at every scrape."""

    def labels(self, *labelvalues: Any, **labelkwargs: Any) -> Any:
        """The child for these label values, by position or by name."""
        if self._labelvalues is not None:
            raise ValueError(f"metric `{self._name}` already has its labels set; call .labels(...) on the metric itself")
        if labelkwargs:
            if labelvalues or sorted(labelkwargs) != sorted(self._labelnames):
                raise ValueError(f"metric `{self._name}` has the labels ({', '.join(self._labelnames)})")
            labelvalues = tuple(labelkwargs[name] for name in self._labelnames)
        if len(labelvalues) != len(self._labelnames):
            raise ValueError(
                f"metric `{self._name}` has {len(self._labelnames)} label(s) "
                f"({', '.join(self._labelnames)}) but {len(labelvalues)} value(s) were given"
            )
        child = object.__new__(type(self))
        child.__dict__.update(self.__dict__)
        child._labelvalues = tuple(str(value) for value in labelvalues)
        return child

    def _key(self, action: str) -> Tuple[str, ...]:
        if self._labelvalues is not None:
            return self._labelvalues
        if self._labelnames:
            raise ValueError(
                f"metric `{self._name}` has labels ({', '.join(self._labelnames)}): call .labels(...) before .{action}()"
            )
        return ()

    def remove(self, *labelvalues: Any) -> None:
        """Forgets the child for these label values."""
        with self._lock:
            self._values.pop(tuple(str(value) for value in labelvalues), None)

    def clear(self) -> None:
        """Forgets every child."""
        with self._lock:
            self._values.clear()

    def _families(self) -> List[Any]:
        raise NotImplementedError


class Info(_ScrapeTimeMetric):
    """Key-value facts about the app, exposed as ``<name>_info{...} 1``
    (``prometheus_client.Info``)."""

    _kind = "info"

    def info(self, val: Dict[str, str]) -> None:
        """Sets the facts; their keys become labels and must not be label names."""
        clash = set(val) & set(self._labelnames)
        if clash:
            raise ValueError(f"info keys {sorted(clash)} of `{self._name}` are also its label names")
        Registry().register_collector(
            lambda: [], [("info", self._name, self._documentation, "", self._labelnames + sorted(val))]
        )
        with self._lock:
            self._values[self._key("info")] = {str(k): str(v) for k, v in val.items()}

    def _families(self) -> List[Any]:
        with self._lock:
            items = list(self._values.items())
        families = []
        for labelvalues, facts in items:
            keys = sorted(facts)
            series = [(list(labelvalues) + [facts[k] for k in keys],)]
            families.append(("info", self._name, self._documentation, "", self._labelnames + keys, series))
        return _merge(families)


class Enum(_ScrapeTimeMetric):
    """One of a fixed set of states, exposed as a state set whose current state is 1 and
    the others 0 (``prometheus_client.Enum``): ``# TYPE <name> stateset`` in OpenMetrics,
    a gauge with the same samples in the Prometheus text and protobuf formats. Each state's
    sample carries it in a label named like the metric, after the metric's own labels; the
    first state is current until :meth:`state` is called."""

    _kind = "stateset"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = (), *args: Any, states: Sequence[str] = (), **kwargs: Any) -> None:
        if not states:
            raise ValueError(f"enum `{name}` needs states=[...], the states it can be in")
        self._states = [str(state) for state in states]
        super().__init__(name, documentation, labelnames, *args, **kwargs)

    def _check_values(self) -> None:
        # The core refuses a state given twice, or an empty one.
        check_family(self._family([([""] * len(self._labelnames), self._states[0])]))

    def state(self, state: str) -> None:
        """Sets the current state."""
        if state not in self._states:
            raise ValueError(f"`{state}` is not a state of enum `{self._name}`; use one of {', '.join(self._states)}")
        with self._lock:
            self._values[self._key("state")] = state

    def _families(self) -> List[Any]:
        with self._lock:
            items = list(self._values.items())
            if not self._labelnames and not items:
                items = [((), self._states[0])]
        return [self._family(items)]

    def _family(self, items: Sequence[Tuple[Sequence[str], str]]) -> Any:
        """The state-set family whose series are ``(labelvalues, current state)``."""
        series = [(list(labelvalues), [(state, state == current) for state in self._states]) for labelvalues, current in items]
        return ("stateset", self._name, self._documentation, self._unit, list(self._labelnames), series)


def _merge(families: List[Any]) -> List[Any]:
    """One family per name: an info metric's children with different keys are written as
    one family over the union of their label names."""
    if len(families) <= 1:
        return families
    names: List[str] = []
    for family in families:
        names += [n for n in family[4] if n not in names]
    series = []
    for family in families:
        values = dict(zip(family[4], family[5][0][0]))
        series.append(([values.get(n, "") for n in names],))
    first = families[0]
    return [(first[0], first[1], first[2], first[3], names, series)]

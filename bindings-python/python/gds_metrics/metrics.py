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

from ._native import Counter, Gauge, Histogram, NativeBuckets, Registry, Summary, default_registry, metric_name

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
    process only (as in ``prometheus_client``, ``Info`` and ``Enum`` have no
    multi-process aggregate: the answering worker's values are served)."""

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
        claim = (self._kind, self._name, documentation, unit, self._family_labels())
        target = default_registry() if registry is _DEFAULT else registry
        if target is not None:
            target.register_collector(self._families, [claim])
        else:
            Registry().register_collector(self._families, [claim])  # validates the name and labels

    def _family_labels(self) -> List[str]:
        return list(self._labelnames)

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
    """One of a fixed set of states, exposed as a gauge per state that is 1 for the current
    one (``prometheus_client.Enum``; a gauge in OpenMetrics too, not a stateset)."""

    _kind = "gauge"

    def __init__(self, name: str, documentation: str, labelnames: Sequence[str] = (), *args: Any, states: Sequence[str] = (), **kwargs: Any) -> None:
        if not states:
            raise ValueError(f"enum `{name}` needs states=[...], the states it can be in")
        if name in labelnames:
            raise ValueError(f"enum `{name}` cannot have a label named like itself")
        self._states = [str(state) for state in states]
        super().__init__(name, documentation, labelnames, *args, **kwargs)

    def _family_labels(self) -> List[str]:
        return list(self._labelnames) + [self._name]

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
        series = [
            (list(labelvalues) + [state], 1.0 if state == current else 0.0)
            for labelvalues, current in items
            for state in self._states
        ]
        return [("gauge", self._name, self._documentation, self._unit, self._family_labels(), series)]


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

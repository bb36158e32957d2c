"""Families computed at scrape time, as the tuples the native collector writes.

A family is ``(kind, name, documentation, unit, labelnames, series)``; each series is
``(labelvalues, ...)`` with, by kind: ``value, created`` (counter), ``value`` (gauge,
unknown), ``bounds, cumulative_counts, sum, created`` (histogram, ``+Inf`` last in the
counts), ``count, sum, created, quantiles`` (summary, ``(quantile, value)`` pairs),
``states`` (stateset, ``(state, is_set)`` pairs in the order they are written) or nothing
more (info). A state set's label names leave out its state label, which the core adds,
named like the family. The core's encoder writes them in whichever format the scrape
negotiated.

:func:`prometheus_client_families` brings ``prometheus_client``'s default registry into
our scrape, so metrics an app (or one of its libraries) defines with ``prometheus_client``
are served next to ours.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any, Dict, Iterable, List, Optional, Tuple

_log = logging.getLogger("gds_metrics")

Family = Tuple[str, str, str, str, List[str], List[Tuple[Any, ...]]]

# The prometheus_client types whose samples map onto one of our kinds.
_KINDS = {
    "counter": "counter",
    "gauge": "gauge",
    "histogram": "histogram",
    "summary": "summary",
    "info": "info",
    "stateset": "stateset",
    "unknown": "unknown",
    "untyped": "unknown",
}


def prometheus_client_families() -> List[Family]:
    """The families of ``prometheus_client``'s default registry, or nothing when it is
    not installed.

    Under a pre-fork server ``prometheus_client`` keeps its values in files in its own
    multi-process directory (``PROMETHEUS_MULTIPROC_DIR`` or
    ``prometheus_multiproc_dir``, read by ``prometheus_client`` when it is imported);
    then the aggregate of every worker's files is served, as ``prometheus_client``'s
    ``MultiProcessCollector`` computes it. Its ``ProcessCollector`` is left out: the
    core's process metrics take its place.
    """
    try:
        import prometheus_client
        from prometheus_client import multiprocess
    except ImportError:
        return []
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")
    if directory and os.path.isdir(directory):
        collectors: List[Any] = [multiprocess.MultiProcessCollector(None, path=directory)]
    else:
        registry = prometheus_client.REGISTRY
        # One collector at a time, so that one that raises is skipped alone (these two
        # attributes are prometheus_client's own, unchanged since its 0.1 releases).
        with registry._lock:
            collectors = list(registry._collector_to_names)
    families: List[Family] = []
    for collector in collectors:
        # The core exports the process metrics, of the whole server under gunicorn:
        # prometheus_client's own (of the one process answering) would repeat them.
        if isinstance(collector, prometheus_client.ProcessCollector):
            continue
        try:
            metrics = list(collector.collect())
        except Exception:
            _log.exception("a prometheus_client collector raised while collecting; its metrics are left out of this scrape")
            continue
        families += [family for metric in metrics for family in _convert(metric)]
    return families


def _convert(metric: Any) -> Iterable[Family]:
    kind = _KINDS.get(metric.type)
    if kind is None:
        return []
    # The label each sample of this kind adds to its series' own (a state set's is named
    # like the family).
    special = {"histogram": "le", "summary": "quantile", "stateset": metric.name}.get(kind)
    names = _label_names(metric.samples, special)
    by_labels: Dict[Tuple[str, ...], Dict[str, Any]] = {}
    for sample in metric.samples:
        values = tuple(str(sample.labels.get(name, "")) for name in names)
        series = by_labels.setdefault(values, {"buckets": [], "quantiles": [], "states": []})
        suffix = sample.name[len(metric.name) :]
        if kind == "histogram" and suffix == "_bucket":
            series["buckets"].append((float(sample.labels["le"]), sample.value))
        elif kind == "summary" and "quantile" in sample.labels:
            series["quantiles"].append((float(sample.labels["quantile"]), sample.value))
        elif kind == "stateset":
            series["states"].append((str(sample.labels.get(metric.name, "")), bool(sample.value)))
        else:
            series[suffix] = sample.value
    series_list = [_series(kind, list(values), parts) for values, parts in by_labels.items()]
    return [(kind, metric.name, metric.documentation, metric.unit or "", names, series_list)]


def _label_names(samples: Any, special: Optional[str]) -> List[str]:
    names: List[str] = []
    for sample in samples:
        for name in sample.labels:
            if name != special and name not in names:
                names.append(name)
    return names


def _series(kind: str, values: List[str], parts: Dict[str, Any]) -> Tuple[Any, ...]:
    created = parts.get("_created")
    if kind == "counter":
        return (values, parts.get("_total", 0.0), created)
    if kind == "histogram":
        buckets = sorted(parts["buckets"])
        finite = [(bound, count) for bound, count in buckets if not math.isinf(bound)]
        total = buckets[-1][1] if buckets else parts.get("_count", 0.0)
        cumulative = [int(count) for _, count in finite] + [int(total)]
        return (values, [bound for bound, _ in finite], cumulative, parts.get("_sum", 0.0), created)
    if kind == "summary":
        quantiles = sorted(parts["quantiles"])
        return (values, int(parts.get("_count", 0)), parts.get("_sum", 0.0), created, quantiles)
    if kind == "info":
        return (values,)
    if kind == "stateset":
        return (values, parts["states"])
    return (values, parts.get("", 0.0))

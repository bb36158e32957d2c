"""Shared test helpers."""

import json
import pathlib

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "core" / "tests" / "vectors"


def vectors(name):
    """The cases of a shared conformance vector file, as pytest parameters."""
    import pytest

    cases = json.loads((VECTORS / f"{name}.json").read_text())["cases"]
    return [pytest.param(case, id=case["name"]) for case in cases]


#: A sampled W3C trace context, and the exemplar it must give a request's metrics.
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"
TRACED_FAMILIES = ["http_server_request_duration_seconds_bucket", "http_server_requests_total"]
OPENMETRICS_ACCEPT = "application/openmetrics-text;version=1.0.0"


def families_traced(openmetrics_text, path, trace_id=TRACE_ID, span_id=SPAN_ID):
    """The families whose series of route `path` carry the trace as exemplar in an
    OpenMetrics scrape: `TRACED_FAMILIES` when the request's trace was recorded."""
    exemplar = f'# {{trace_id="{trace_id}",span_id="{span_id}"}}'
    return sorted(
        {
            line.split("{", 1)[0]
            for line in openmetrics_text.splitlines()
            if f'path="{path}"' in line and exemplar in line
        }
    )

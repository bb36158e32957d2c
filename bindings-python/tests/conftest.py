"""Shared test helpers."""

import json
import pathlib

from flask.testing import FlaskClient

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "core" / "tests" / "vectors"


def vectors(name):
    """The cases of a shared conformance vector file, as pytest parameters."""
    import pytest

    cases = json.loads((VECTORS / f"{name}.json").read_text())["cases"]
    return [pytest.param(case, id=case["name"]) for case in cases]


class SentClient(FlaskClient):
    """Flask's test client, reading each response body to its end and closing it, as a
    server does: requests are recorded when their body has been sent."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)

"""Shared test helpers."""

import json
import pathlib

VECTORS = pathlib.Path(__file__).resolve().parents[2] / "core" / "tests" / "vectors"


def vectors(name):
    """The cases of a shared conformance vector file, as pytest parameters."""
    import pytest

    cases = json.loads((VECTORS / f"{name}.json").read_text())["cases"]
    return [pytest.param(case, id=case["name"]) for case in cases]

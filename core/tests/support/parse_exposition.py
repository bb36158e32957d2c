"""Parses an exposition from stdin with the Python prometheus_client parsers and prints
what they understood as JSON, for the conformance tests in core/tests/system/conformance.rs.

Usage: parse_exposition.py openmetrics|text

`openmetrics` uses the strict OpenMetrics 1.0 parser, which rejects anything outside the
grammar (it raises, and this script exits non-zero with the parser's message).
Values are printed as Python `repr` strings so NaN and infinities survive JSON.
"""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text


def main() -> None:
    parse = parse_openmetrics if sys.argv[1] == "openmetrics" else parse_text
    families = []
    for family in parse(sys.stdin.read()):
        families.append(
            {
                "name": family.name,
                "type": family.type,
                "help": family.documentation,
                "unit": family.unit,
                "samples": [
                    {"name": s.name, "labels": s.labels, "value": repr(float(s.value))}
                    for s in family.samples
                ],
            }
        )
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()

"""The service side's tour: app changes on the (stand-in) platform reaching every
Prometheus through the target updater, and a bind and unbind through the broker.

Each step changes the platform the way a tenant would (`cf scale`, `cf stop`, `cf start`,
a blue-green `cf rename` to `<app>-venerable`, `cf delete` without unbinding, `cf
unbind-service`), waits until every Prometheus shows the result, and reports how long
that took; then it puts things back. Used by `make demo` (printed) and by the end-to-end
test (asserted).
"""

from __future__ import annotations

import time
from typing import Callable

from broker import UPDATE_PERIOD
from s3 import SYNC_INTERVAL_SECONDS

#: How long a step may wait before the tour gives up on it (far beyond its budget, so a
#: slow step is reported with its time rather than cut short).
STEP_TIMEOUT = 60.0
#: Prometheus' discovery manager hands a changed target set on at most every 5 seconds,
#: and its scrape manager applies what it was handed at most every 5 seconds.
PROMETHEUS_DISCOVERY_DELAY = 10.0
#: Headroom for the updater's own run, the sync's copy and polling every Prometheus' API.
MARGIN = 3.0


def step_budget(scrape_interval: str) -> float:
    """How long a change may take to reach every Prometheus: one updater period (the run
    that sees it), one sync, Prometheus' discovery delay and one scrape, plus a margin."""
    return (_seconds(UPDATE_PERIOD) + SYNC_INTERVAL_SECONDS + PROMETHEUS_DISCOVERY_DELAY
            + _seconds(scrape_interval) + MARGIN)


def tour(demo, log: Callable[[str], None] = print) -> list[tuple[str, float, float]]:
    """Runs every step; returns (what, seconds until every Prometheus showed it, budget)."""
    cf = demo.service.cf
    web = [app for app in demo.apps if not app.exporter]
    scaled = next((app for app in web if app.instances > 1), web[0])
    others = [app for app in demo.apps if app != scaled]
    budget = step_budget(demo.scrape_interval)
    steps: list[tuple[str, float, float]] = []

    def step(what: str, change: Callable[[], None], expected: set) -> None:
        started = time.monotonic()
        change()
        demo.wait_for_targets(expected, STEP_TIMEOUT)
        seconds = time.monotonic() - started
        steps.append((what, seconds, budget))
        verdict = "within" if seconds <= budget else "OVER"
        log(f"  {what}: on every Prometheus after {seconds:.1f}s ({verdict} the {budget:.0f}s budget)")

    log(f"\nThe platform changes apps; the target updater (every {UPDATE_PERIOD}) carries each change.")
    log(f"Budget per step: the updater's period {UPDATE_PERIOD}, a sync ({SYNC_INTERVAL_SECONDS}s), Prometheus'"
        f" discovery ({PROMETHEUS_DISCOVERY_DELAY:.0f}s), a scrape ({demo.scrape_interval}) and {MARGIN:.0f}s"
        f" of margin: {budget:.0f}s.")
    everything = demo.expected_targets()
    one_fewer = {t for t in everything if not (t[0] == scaled.name and t[1].endswith(f":{scaled.instances - 1}"))}
    step(f"cf scale {scaled.name} -i {scaled.instances - 1}",
         lambda: cf.change(scaled, {"action": "scale", "instances": scaled.instances - 1}), one_fewer)
    step(f"cf scale {scaled.name} -i {scaled.instances}",
         lambda: cf.change(scaled, {"action": "scale", "instances": scaled.instances}), everything)
    step(f"cf stop {scaled.name} (file moved to inactive/)",
         lambda: cf.change(scaled, {"action": "stop"}), demo.expected_targets(others))
    step(f"cf start {scaled.name}", lambda: cf.change(scaled, {"action": "start"}), everything)
    step(f"cf rename {scaled.name} {scaled.name}-venerable (blue-green: job stays {scaled.name})",
         lambda: (cf.change(scaled, {"action": "rename", "name": f"{scaled.name}-venerable"}),
                  time.sleep(_seconds(UPDATE_PERIOD) * 2)), everything)
    cf.change(scaled, {"action": "rename", "name": scaled.name})
    step(f"cf delete {scaled.name}, never unbound (its file removed)",
         lambda: cf.change(scaled, {"action": "delete"}), demo.expected_targets(others))
    step(f"cf push {scaled.name} again and cf bind-service",
         lambda: (cf.recreate(scaled), cf.bind_service(scaled, generation=1)), everything)
    step(f"cf unbind-service {scaled.name} (its last binding)",
         lambda: (cf.unbind_service(scaled, generation=0), cf.unbind_service(scaled, generation=1)),
         demo.expected_targets(others))
    step(f"cf bind-service {scaled.name}", lambda: cf.bind_service(scaled), everything)
    return steps


def _seconds(period: str) -> float:
    """`2s` as 2.0 (the demo's periods are whole seconds)."""
    return float(period.rstrip("s"))

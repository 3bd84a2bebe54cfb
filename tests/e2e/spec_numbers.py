"""The design's spec numbers, asserted on the cards a worker serves."""

from __future__ import annotations

import time
from collections import Counter

import httpx

from services.simulator import spec_scenario as spec

EXPECTED_DAY1 = {"total": 44, "salvageable": 18, "salvageable_pct": 41,
                 "potential_lost_rub": 720_000, "average_check_rub": 40_000}
EXPECTED_DAY2 = {"leak_rub": 1_248_700, "cases": 47, "hot_cases": 30}
MAIN_LEAK = {"leak": "Не дожали заинтересованных", "leak_rub": 612_000, "leak_pct": 49, "cases": 18}


def cards_for(worker, day, timeout_s: float = 120.0) -> dict:
    """The cards of a spec day; waits out a watchdog restart of the worker."""
    start, end = spec.day_period(day)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return worker.get("/cards", **{"from": start.isoformat(), "to": end.isoformat()})
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def observed(worker) -> tuple[dict, dict]:
    c1 = cards_for(worker, spec.DAY1)["card1"]
    d2 = cards_for(worker, spec.DAY2)["card2"]
    return ({k: c1[k] for k in EXPECTED_DAY1},
            {**{k: d2[k] for k in EXPECTED_DAY2}, "main": d2["by_leak"][0] if d2["by_leak"] else None})


def wait_for_spec_numbers(worker, timeout_s: float = 240.0) -> tuple[dict, dict]:
    """Poll until the cards show the spec's numbers, then make sure they stay put."""
    want = (EXPECTED_DAY1, {**EXPECTED_DAY2, "main": {**MAIN_LEAK, "hot_cases": 18}})
    deadline = time.monotonic() + timeout_s
    got = None
    while time.monotonic() < deadline:
        got = observed(worker)  # cards_for waits out a watchdog restart
        if got == want:
            time.sleep(4)  # late re-publications must not double count
            return observed(worker)
        time.sleep(1)
    return got


def expected_by_reason(day) -> dict[str, tuple[int, int]]:
    sc = spec.build()
    counts: Counter = Counter()
    for deal_id, r in sc.refusals.items():
        if sc.days[deal_id] == day:
            counts[(r.reason.value, r.kind.value)] += 1
    reasons = {reason for reason, _ in counts}
    return {reason: (counts[(reason, "salvageable")], counts[(reason, "real")]) for reason in reasons}

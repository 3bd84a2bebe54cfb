"""The provisioned alert rules (grafana/provisioning/alerting/rules.yaml) evaluated as
Grafana does: query A over the rule's relative window on the real ClickHouse engine, its
expressions (reduce, threshold) in order, the condition's result = firing. Each case has
its own "now", months apart, so their data never meet."""

from __future__ import annotations

import operator
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from leakwatch.cards.macros import expand
from leakwatch.grafana import EXPRESSION_UID
from leakwatch.grafana.files import RULES_FILE
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from tests.support.refusal_records import refusal

RULES = {r["uid"]: r for g in yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))["groups"] for r in g["rules"]}
SPIKE, BURST = RULES["leakwatch-leak-spike"], RULES["leakwatch-salvageable-burst"]
EVALUATORS = {"gt": operator.gt, "lt": operator.lt}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore.open(Settings(chdb_path=tmp_path_factory.mktemp("chdb")))
    yield s
    s.close()


def evaluate(store, rule: dict, now: datetime) -> tuple[float, bool]:
    """(the reduced value, whether the rule's condition fires)."""
    results: dict[str, object] = {}
    for query in rule["data"]:
        model, ref = query["model"], query["refId"]
        if query["datasourceUid"] != EXPRESSION_UID:
            window = query["relativeTimeRange"]
            sql = expand(model["rawSql"], time_from=now - timedelta(seconds=window["from"]),
                         time_to=now - timedelta(seconds=window["to"]), variables={})  # no dashboard here
            rows = store.query(sql)
            assert rows and all(len(r) == 1 for r in rows), "alerting on numbers needs one numeric column"
            results[ref] = [float(next(iter(r.values()))) for r in rows]
        elif model["type"] == "reduce":
            assert model["reducer"] == "last"
            results[ref] = results[model["expression"]][-1]
        elif model["type"] == "threshold":
            (condition,) = model["conditions"]
            evaluator = condition["evaluator"]
            results[ref] = EVALUATORS[evaluator["type"]](results[model["expression"]], evaluator["params"][0])
        else:
            raise AssertionError(f"unexpected expression {model['type']}")
    return results["B"], results[rule["condition"]]


def threshold(rule: dict) -> float:
    return rule["data"][-1]["model"]["conditions"][0]["evaluator"]["params"][0]


def salvageable(prefix: str, times: list[datetime], **kw) -> list:
    return [refusal(f"{prefix}-{i}", t, **kw) for i, t in enumerate(times)]


def noise(prefix: str, at: datetime) -> list:
    """Rows no alert may count: real, retracted, not target."""
    return [refusal(f"{prefix}-real", at, kind="real", reason="Не подошли условия"),
            refusal(f"{prefix}-retracted", at, active=False),
            refusal(f"{prefix}-spam", at, target=False)]


def test_thresholds_are_the_defaults():
    assert threshold(SPIKE) == 1.5 and threshold(BURST) == 10


def test_leak_spike_fires_above_factor_times_the_average_day(store):
    now = datetime(2027, 3, 10, 12, 0, tzinfo=timezone.utc)
    # History: 5 days with 2 × ₽40 000 each in the 28 days before the window: ₽80 000 a day.
    history = [now - timedelta(days=d, hours=h) for d in range(2, 7) for h in (1, 3)]
    store.insert_refusals(salvageable("spike-hist", history) + noise("spike-hist-noise", now - timedelta(days=3)))
    in_window = [now - timedelta(hours=h) for h in (1, 2, 3)]
    store.insert_refusals(salvageable("spike-now", in_window) + noise("spike-now-noise", now - timedelta(hours=1)))
    # ₽120 000 in 24 h = 1.5 × the average day: not above it.
    assert evaluate(store, SPIKE, now) == (1.5, False)
    store.insert_refusals(salvageable("spike-more", [now - timedelta(hours=4)]))
    assert evaluate(store, SPIKE, now) == (2.0, True)


def test_leak_spike_stays_quiet_without_history(store):
    now = datetime(2027, 7, 10, 12, 0, tzinfo=timezone.utc)
    store.insert_refusals(salvageable("fresh", [now - timedelta(minutes=m) for m in range(1, 30)]))
    assert evaluate(store, SPIKE, now) == (0.0, False)


def test_burst_of_salvageable_refusals_in_the_last_hour(store):
    now = datetime(2027, 11, 10, 12, 0, tzinfo=timezone.utc)
    store.insert_refusals(salvageable("burst", [now - timedelta(minutes=5 * m + 1) for m in range(10)])
                          + salvageable("burst-old", [now - timedelta(hours=2, minutes=m) for m in range(5)])
                          + noise("burst-noise", now - timedelta(minutes=3)))
    assert evaluate(store, BURST, now) == (10.0, False)
    store.insert_refusals(salvageable("burst-more", [now - timedelta(minutes=59)]))
    assert evaluate(store, BURST, now) == (11.0, True)

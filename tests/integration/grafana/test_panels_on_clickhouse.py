"""Every panel of the generated dashboard, its SQL expanded as the ClickHouse plugin does,
on the real ClickHouse engine (chdb) holding the design's two spec days; and the numbers
each panel shows."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from leakwatch.cards.macros import ALL, expand
from leakwatch.grafana.files import DASHBOARD_FILE
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from services.simulator import spec_scenario as spec
from tests.support.grafana_view import selected_fields, shown
from tests.support.refusal_records import on_day, spec_records

DASHBOARD = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
PANELS = {p["title"]: p for p in DASHBOARD["panels"] if p["type"] != "row"}
VARIABLES = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
DEFAULTS = {name: v["current"]["value"] for name, v in VARIABLES.items()}
RECORDS = spec_records()
BY_LEAK = "Утечка по причинам — ${metric:text}"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore.open(Settings(chdb_path=tmp_path_factory.mktemp("chdb")))
    s.insert_refusals(RECORDS)
    yield s
    s.close()


def run(store, sql: str, day, **variables) -> list[dict]:
    start, end = spec.day_period(day)  # the time picker's "today" on that day
    return store.query(expand(sql, time_from=start, time_to=end, variables={**DEFAULTS, **variables}))


def show(store, title: str, day, **variables):
    panel = PANELS[title]
    return shown(panel, [run(store, t["rawSql"], day, **variables) for t in panel["targets"]])


@pytest.mark.parametrize("title", sorted(PANELS))
@pytest.mark.parametrize("day", [spec.DAY1, spec.DAY2])
def test_every_panel_runs_and_finds_its_fields(store, title, day):
    panel = PANELS[title]
    for t in panel["targets"]:
        rows = run(store, t["rawSql"], day)
        assert rows, f"{title}: no rows"
        columns = list(rows[0])
        if panel["type"] in ("stat", "bargauge"):
            wanted = panel["options"]["reduceOptions"]["fields"].strip("/^$()").split("|")
            assert selected_fields(panel, columns) == [c for c in columns if c in wanted]
            assert set(wanted) <= set(columns), f"{title}: {set(wanted) - set(columns)} missing"
        if panel["type"] == "barchart":
            assert panel["options"]["xField"] in columns
        named = {o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]}
        assert named <= set(columns), f"{title}: overrides for {named - set(columns)}"


def test_card1_on_day1(store):
    day = spec.DAY1
    assert show(store, "Можно было спасти", day) == [("salvageable", 18)]
    assert show(store, "Потенциально потерянная выручка", day) == [("potential_lost_rub", 720_000)]
    assert show(store, "Всего целевых отказов", day) == [("total", 44)]
    assert show(store, "Спасаемые и реальные", day) == [("Спасаемые", 41), ("Реальные", 59)]
    counts = Counter((r.reason.value, r.kind.value) for r in spec.day1_refusals())
    expected = {reason: {"Спасаемые": counts[(reason, "salvageable")], "Реальные": counts[(reason, "real")]}
                for reason, _ in counts}
    assert show(store, "Отказы по причинам", day) == expected


def test_card2_on_day2(store):
    day = spec.DAY2
    assert show(store, "Утечка дня", day) == [("leak_rub", 1_248_700)]
    assert show(store, "Случаев", day) == [("cases", 47)]
    assert show(store, "Главная причина", day) == [
        ("Не дожали заинтересованных", 612_000), ("случаев", 18), ("доля", 49)]  # in column order
    assert show(store, "Горячие среди потерянных", day) == [("потеряно", 47), ("из них горячих", 30)]
    # «Не дожали»: 12 cases at «Выставлен счёт» (8 × 40 000 + 109 000) against 6 at «Переговоры».
    assert show(store, "Этап главной утечки", day) == [("Выставлен счёт", 429_000)]


def test_above_average_counts_the_day_before(store):
    # Day 1 is the only day of the 28 before day 2; the period is 23:59:59 long.
    day1_leak = sum(r.money_rub for r in on_day(RECORDS, spec.DAY1) if r.kind == "salvageable")
    expected = round(100 * (1_248_700 / (day1_leak * 86399 / 86400) - 1))
    assert show(store, "Выше среднего дня", spec.DAY2) == [("above_average_pct", expected)]
    assert show(store, "Выше среднего дня", spec.DAY1) == [("above_average_pct", None)]  # «нет истории»


def test_sum_count_switch(store):
    money = {"Не дожали заинтересованных": 612_000, "Не отработали возражение": 298_700,
             "Не отправили материалы после звонка": 200_000, "Не связались вовремя": 138_000}
    cases = {"Не дожали заинтересованных": 18, "Не отработали возражение": 12,
             "Не отправили материалы после звонка": 10, "Не связались вовремя": 7}
    assert [o["value"] for o in VARIABLES["metric"]["options"]] == ["sum", "count"]
    by_sum = show(store, BY_LEAK, spec.DAY2, metric="sum")
    by_count = show(store, BY_LEAK, spec.DAY2, metric="count")
    assert {leak: bars["${metric:text}"] for leak, bars in by_sum.items()} == money
    assert {leak: bars["${metric:text}"] for leak, bars in by_count.items()} == cases
    assert list(by_sum) == list(money)  # largest leak first


def test_drill_down_lists_the_salvageable_cases(store):
    rows = show(store, "Кого можно было удержать", spec.DAY2)
    assert len(rows) == 47 and sum(r["money_rub"] for r in rows) == 1_248_700
    assert [r["money_rub"] for r in rows] == sorted((r["money_rub"] for r in rows), reverse=True)
    assert len(show(store, "Кого можно было удержать", spec.DAY1)) == 18


def test_pipeline_and_manager_filters(store):
    manager = spec.MANAGERS[0]
    day1 = on_day(RECORDS, spec.DAY1)
    mine = [r for r in day1 if r.manager == manager]
    assert show(store, "Всего целевых отказов", spec.DAY1, manager=[manager]) == [("total", len(mine))]
    assert show(store, "Можно было спасти", spec.DAY1, manager=[manager], pipeline=[spec.PIPELINE]) == [
        ("salvageable", sum(r.kind == "salvageable" for r in mine))]
    assert show(store, "Всего целевых отказов", spec.DAY1, pipeline=["Другая"]) == [("total", 0)]


def test_filter_options(store):
    def options(name: str, **variables) -> list[str]:
        return [next(iter(r.values())) for r in run(store, VARIABLES[name]["query"], spec.DAY1, **variables)]

    assert options("pipeline") == [spec.PIPELINE]
    assert options("manager", pipeline=ALL) == sorted(spec.MANAGERS)
    assert options("manager", pipeline=["Другая"]) == []


MANAGERS_PANEL = "Утечка и причины менеджеров"


def test_managers_leak_and_top_reason(store):
    rows = {r["manager"]: r for r in show(store, MANAGERS_PANEL, spec.DAY2)}
    assert set(rows) == set(spec.MANAGERS)
    for manager in spec.MANAGERS:
        mine = [r for r in on_day(RECORDS, spec.DAY2) if r.manager == manager]
        salvageable = [r for r in mine if r.kind == "salvageable"]
        money: Counter = Counter()
        for r in salvageable:
            money[r.leak] += r.money_rub
        top = max(money.items(), key=lambda kv: (kv[1], kv[0]))[0]
        assert (rows[manager]["refusals"], rows[manager]["cases"], rows[manager]["leak_rub"], rows[manager]["top_leak"]) \
            == (len(mine), len(salvageable), sum(money.values()), top)
        assert rows[manager]["mismatch_pct"] is None  # the spec's managers stated no reason
    assert sum(r["leak_rub"] for r in rows.values()) == 1_248_700
    leaks = [r["leak_rub"] for r in show(store, MANAGERS_PANEL, spec.DAY2)]
    assert leaks == sorted(leaks, reverse=True)


def test_managers_stated_reason_mismatches(store):
    from datetime import datetime, timezone

    from tests.support.refusal_records import refusal

    at = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    stated = [("Дорого", "Дорого"), ("Дорого", "Клиент пропал"), ("Дорого", "Поздно связались"), (None, "Дорого")]
    records = [refusal(f"M-{i}", at, reason=true, manager="Анна Смирнова").model_copy(update={
        "manager_reason": said, "reason_mismatch": None if said is None else said != true})
        for i, (said, true) in enumerate(stated)]
    store.insert_refusals(records)  # a day after the spec's two: their numbers stay
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    sql = PANELS[MANAGERS_PANEL]["targets"][0]["rawSql"]
    [row] = store.query(expand(sql, time_from=start, time_to=start.replace(hour=23), variables=DEFAULTS))
    # 3 stated a reason, 2 of them differ from the true one: 67%.
    assert (row["refusals"], row["stated"], row["mismatches"], row["mismatch_pct"]) == (4, 3, 2, 67)

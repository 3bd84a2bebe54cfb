"""The generated dashboard, checked as Grafana would load it (no Grafana here)."""

from __future__ import annotations

import json
import re
from itertools import combinations

import pytest
import yaml

from leakwatch.cards.macros import variable_names
from leakwatch.cards.queries import CARDS, VARIABLES
from leakwatch.grafana import CLICKHOUSE_TYPE, DASHBOARD_TITLE
from leakwatch.grafana.files import DASHBOARD_FILE
from leakwatch.settings import REPO_ROOT

DASHBOARD = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))
PANELS = DASHBOARD["panels"]
QUERY_PANELS = [p for p in PANELS if p["type"] != "row"]
TEMPLATING = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
DATASOURCES = yaml.safe_load((REPO_ROOT / "grafana/provisioning/datasources/datasources.yaml").read_text())["datasources"]
(CLICKHOUSE,) = [d for d in DATASOURCES if d["type"] == CLICKHOUSE_TYPE]
MONEY_FIELDS = {"potential_lost_rub", "leak_rub", "stage_rub", "money_rub"}


def _rect(p: dict) -> tuple[int, int, int, int]:
    g = p["gridPos"]
    return g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]


def test_title_refresh_and_period():
    assert DASHBOARD["title"] == DASHBOARD_TITLE == "Где теряются деньги"
    assert DASHBOARD["refresh"] == "10s"
    assert DASHBOARD["time"] == {"from": "now/d", "to": "now/d"}
    assert DASHBOARD["uid"] and "id" not in DASHBOARD  # provisioning matches by uid


def test_panel_ids_are_unique():
    ids = [p["id"] for p in PANELS]
    assert len(ids) == len(set(ids))


def test_grid_positions_fit_and_never_overlap():
    for p in PANELS:
        x, y, right, bottom = _rect(p)
        assert 0 <= x < right <= 24 and 0 <= y < bottom, p["title"]
    for a, b in combinations(PANELS, 2):
        ax, ay, ar, ab = _rect(a)
        bx, by, br, bb = _rect(b)
        assert ar <= bx or br <= ax or ab <= by or bb <= ay, f"{a['title']} overlaps {b['title']}"


def test_every_target_uses_the_provisioned_clickhouse_datasource():
    for p in QUERY_PANELS:
        assert p["datasource"] == {"type": CLICKHOUSE_TYPE, "uid": CLICKHOUSE["uid"]}, p["title"]
        for t in p["targets"]:
            assert t["datasource"] == p["datasource"], p["title"]
            assert t["format"] == 1 and t["editorType"] == "sql"  # table: one field per column
    for v in TEMPLATING.values():
        if v["type"] == "query":
            assert v["datasource"]["uid"] == CLICKHOUSE["uid"]


def test_panels_hold_the_cards_sql_verbatim_and_use_every_card():
    used = {t["rawSql"] for p in QUERY_PANELS for t in p["targets"]}
    assert used <= set(CARDS.values()), "a panel's SQL is not one of leakwatch/cards/queries.py"
    assert used == set(CARDS.values()), "a card query is on no panel"
    assert {name: TEMPLATING[name]["query"] for name in VARIABLES} == VARIABLES


def test_every_variable_the_board_refers_to_is_defined():
    texts = [t["rawSql"] for p in QUERY_PANELS for t in p["targets"]]
    texts += [v["query"] for v in TEMPLATING.values() if v["type"] == "query"]
    texts += [p["title"] for p in PANELS] + [json.dumps(p["fieldConfig"], ensure_ascii=False) for p in QUERY_PANELS]
    referenced = set().union(*(variable_names(t) for t in texts))
    assert referenced and referenced <= set(TEMPLATING)


def test_filters_and_switch():
    for name in ("pipeline", "manager"):
        v = TEMPLATING[name]
        assert v["type"] == "query" and v["multi"] and v["includeAll"]
        assert v["current"]["value"] == ["$__all"]
    metric = TEMPLATING["metric"]
    assert metric["type"] == "custom" and [o["value"] for o in metric["options"]] == ["sum", "count"]
    assert "'$metric' = 'count'" in CARDS["card2_by_leak"]  # what the switch's values must match
    baseline = TEMPLATING["baseline_days"]
    assert baseline["type"] == "constant" and baseline["hide"] == 2 and baseline["query"] == "28"


@pytest.mark.parametrize("panel", QUERY_PANELS, ids=lambda p: p["title"])
def test_selected_fields_are_columns_of_the_panels_sql(panel):
    sql = "\n".join(t["rawSql"] for t in panel["targets"])
    names = [o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]]
    if "reduceOptions" in panel["options"]:
        names += panel["options"]["reduceOptions"]["fields"].strip("/^$()").split("|")
    if "xField" in panel["options"]:
        names.append(panel["options"]["xField"])
    for name in names:
        assert re.search(rf"\b{name}\b", sql), f"{panel['title']}: no column {name}"


def test_money_is_in_rubles():
    for p in QUERY_PANELS:
        defaults = p["fieldConfig"]["defaults"]
        fields = set(p["options"].get("reduceOptions", {}).get("fields", "").strip("/^$()").split("|"))
        if fields and fields <= MONEY_FIELDS:
            assert defaults["unit"] == "currencyRUB", p["title"]
        for o in p["fieldConfig"]["overrides"]:
            if o["matcher"]["options"] in MONEY_FIELDS:
                props = {x["id"]: x["value"] for x in o["properties"]}
                assert props.get("unit", defaults.get("unit")) == "currencyRUB", p["title"]


def test_titles_are_russian():
    for p in PANELS:
        assert re.search("[а-яё]", p["title"], re.I), p["title"]

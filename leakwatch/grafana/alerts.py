"""Grafana-managed alert rules on the ALERTS queries of leakwatch/cards/queries.py. Pure.

Each rule: A = the ClickHouse query over a relative window (one numeric column),
B = reduce A to its last value, C = threshold on B (the rule's condition). The numbers
come from the one spike definition, leakwatch/domain/spikes.py `SpikeRules` (the worker
checks the same); they are written into the rules (Grafana does not interpolate
environment variables inside a rule's queries, precisely so `$__timeFilter` survives),
so change them with `leakwatch grafana build --leak-factor …` or
`leakwatch grafana push --leak-factor …`.

`provisioning_file` is the file-provisioning shape (grafana/provisioning/alerting/);
`api_rules` is the shape of the provisioning HTTP API (`leakwatch grafana push`).
"""

from __future__ import annotations

from dataclasses import dataclass

from leakwatch.cards.macros import expand_variables
from leakwatch.cards.queries import ALERTS
from leakwatch.domain.plurals import days_ru
from leakwatch.domain.spikes import SpikeRules
from leakwatch.grafana import CLICKHOUSE_UID, DASHBOARD_UID, EXPRESSION_UID, FOLDER_TITLE, RULE_GROUP
from leakwatch.grafana.panels import target

GROUP_INTERVAL = "1m"
LABELS = {"team": "leakwatch"}  # the notification policy routes on it; no "$" (labels are env-interpolated)


def add_threshold_arguments(parser) -> None:
    defaults = SpikeRules()
    parser.add_argument("--leak-factor", type=float, default=defaults.leak_factor,
                        help="alert when the last 24 h leak exceeds this × the average day (default %(default)s)")
    parser.add_argument("--burst-per-hour", type=int, default=defaults.burst_per_hour,
                        help="alert when more salvageable refusals were lost in an hour (default %(default)s)")
    parser.add_argument("--baseline-days", type=int, default=defaults.baseline_days,
                        help="the average day is taken over this many days (default %(default)s)")


def rules_from_arguments(args) -> SpikeRules:
    return SpikeRules(args.leak_factor, args.burst_per_hour, args.baseline_days)


def alert_sql(query: str, rules: SpikeRules) -> str:
    """An ALERTS query with the baseline's length written in (a rule has no variables)."""
    return expand_variables(ALERTS[query], {"baseline_days": str(int(rules.baseline_days))})


@dataclass(frozen=True)
class RuleSpec:
    uid: str
    title: str
    sql: str  # an ALERTS query, ready for Grafana's backend
    window_s: int  # the query's relative time range: now - window_s .. now
    threshold: float
    for_: str
    panel_title: str  # the dashboard panel the alert links to
    summary: str
    description: str


def rule_specs(thresholds: SpikeRules) -> list[RuleSpec]:
    return [
        RuleSpec(
            uid="leakwatch-leak-spike", title="Утечка выше обычной", sql=alert_sql("alert_leak_spike", thresholds),
            window_s=int(thresholds.leak_window.total_seconds()), threshold=thresholds.leak_factor, for_="5m",
            panel_title="Утечка дня",
            summary=f"Утечка за сутки в {{{{ printf \"%.1f\" $values.B.Value }}}} раза больше среднего дня "
                    f"(порог ×{thresholds.leak_factor:g})",
            description="Спасаемые потери за последние 24 часа против среднего дня за "
                        f"предыдущие {days_ru(thresholds.baseline_days)}. Смотрите «Главная причина» на доске."),
        RuleSpec(
            uid="leakwatch-salvageable-burst", title="Всплеск спасаемых отказов",
            sql=alert_sql("alert_salvageable_burst", thresholds),
            window_s=int(thresholds.burst_window.total_seconds()), threshold=thresholds.burst_per_hour, for_="0s",
            panel_title="Можно было спасти",
            # "Спасаемых отказов: N", not "N спасаемых отказов": a Grafana template has no Russian plurals
            summary=f"Спасаемых отказов за час: {{{{ $values.B.Value }}}} (порог {thresholds.burst_per_hour})",
            description="Больше обычного клиентов потеряно по вине отработки за последний час."),
    ]


def _expression(ref_id: str, model: dict) -> dict:
    return {"refId": ref_id, "relativeTimeRange": {"from": 0, "to": 0}, "datasourceUid": EXPRESSION_UID,
            "model": {"refId": ref_id, "datasource": {"type": "__expr__", "uid": EXPRESSION_UID}, **model}}


def _rule(spec: RuleSpec, datasource_uid: str, panel_ids: dict[str, int]) -> dict:
    query = {**target(spec.sql, datasource_uid), "intervalMs": 1000, "maxDataPoints": 43200}
    return {
        "uid": spec.uid,
        "title": spec.title,
        "condition": "C",
        "data": [
            {"refId": "A", "relativeTimeRange": {"from": spec.window_s, "to": 0}, "datasourceUid": datasource_uid,
             "model": query},
            _expression("B", {"type": "reduce", "expression": "A", "reducer": "last", "settings": {"mode": "dropNN"}}),
            _expression("C", {"type": "threshold", "expression": "B",
                              "conditions": [{"evaluator": {"type": "gt", "params": [spec.threshold]}}]}),
        ],
        "dashboardUid": DASHBOARD_UID,
        "panelId": panel_ids[spec.panel_title],
        "noDataState": "OK",
        "execErrState": "Error",
        "for": spec.for_,
        "annotations": {"summary": spec.summary, "description": spec.description},
        "labels": dict(LABELS),
        "isPaused": False,
    }


def _panel_ids(dashboard: dict) -> dict[str, int]:
    return {p["title"]: p["id"] for p in dashboard["panels"]}


def provisioning_file(dashboard: dict, thresholds: SpikeRules = SpikeRules(), *,
                      datasource_uid: str = CLICKHOUSE_UID, folder: str = FOLDER_TITLE) -> dict:
    ids = _panel_ids(dashboard)
    return {
        "apiVersion": 1,
        "groups": [{
            "orgId": 1, "name": RULE_GROUP, "folder": folder, "interval": GROUP_INTERVAL,
            "rules": [_rule(spec, datasource_uid, ids) for spec in rule_specs(thresholds)],
        }],
    }


def api_rules(dashboard: dict, thresholds: SpikeRules, *, datasource_uid: str, folder_uid: str) -> list[dict]:
    """Rules for POST/PUT /api/v1/provisioning/alert-rules: the file shape plus where they live."""
    ids = _panel_ids(dashboard)
    return [{**_rule(spec, datasource_uid, ids), "folderUID": folder_uid, "ruleGroup": RULE_GROUP, "orgID": 1}
            for spec in rule_specs(thresholds)]

"""The «Где теряются деньги» dashboard: both cards and the drill-down table, every panel
on the cards' SQL exactly as leakwatch/cards/queries.py defines it. Pure."""

from __future__ import annotations

from leakwatch.cards.queries import CARDS, VARIABLES
from leakwatch.grafana import CLICKHOUSE_TYPE, CLICKHOUSE_UID, DASHBOARD_TITLE, DASHBOARD_UID
from leakwatch.grafana.panels import HIDDEN, RUB, bar_chart, bar_gauge, override, row, stat, table, target
from leakwatch.settings import Settings

DEFAULT_TIMEZONE = Settings.model_fields["timezone"].default  # the department's "today"
DEFAULT_BASELINE_DAYS = Settings.model_fields["baseline_days"].default
SALVAGEABLE_COLOR, REAL_COLOR, LEAK_COLOR = "orange", "blue", "red"


def _card1(q) -> list[tuple[dict, tuple[int, int, int, int]]]:
    kinds = [override("salvageable", {"displayName": "Спасаемые", "color": {"mode": "fixed", "fixedColor": SALVAGEABLE_COLOR}}),
             override("real", {"displayName": "Реальные", "color": {"mode": "fixed", "fixedColor": REAL_COLOR}})]
    return [
        (row("Отказы целевых лидов"), (0, 0, 24, 1)),
        (stat("Можно было спасти", [q("card1_totals")], ["salvageable"], color=SALVAGEABLE_COLOR, big=True,
              description="Целевые отказы, которые менеджер мог удержать: ошибка или слабая отработка."),
         (0, 1, 6, 8)),
        (stat("Потенциально потерянная выручка", [q("card1_totals")], ["potential_lost_rub"], unit=RUB,
              color=LEAK_COLOR, description="Средний чек × число спасаемых отказов."), (6, 1, 6, 4)),
        (stat("Всего целевых отказов", [q("card1_totals")], ["total"],
              description="Спам и дубли не считаются: этих клиентов не было."), (6, 5, 6, 4)),
        (bar_chart("Отказы по причинам", [q("card1_by_reason")], "reason", stacked=True,
                   overrides=[*kinds, override("total", {"custom.hideFrom": HIDDEN, "displayName": "Всего"})]),
         (12, 1, 12, 8)),
        (bar_gauge("Спасаемые и реальные", [q("card1_totals")], ["salvageable_pct", "real_pct"], unit="percent",
                   max_value=100, overrides=[
                       override("salvageable_pct", {"displayName": "Спасаемые", "color": {"mode": "fixed", "fixedColor": SALVAGEABLE_COLOR}}),
                       override("real_pct", {"displayName": "Реальные", "color": {"mode": "fixed", "fixedColor": REAL_COLOR}})]),
         (0, 9, 24, 4)),
    ]


def _card2(q) -> list[tuple[dict, tuple[int, int, int, int]]]:
    in_tooltip = {"custom.hideFrom": HIDDEN}
    return [
        (row("Потенциально потерянная выручка"), (0, 13, 24, 1)),
        (stat("Утечка дня", [q("card2_totals")], ["leak_rub"], unit=RUB, color=LEAK_COLOR, big=True,
              description="Спасаемые потери за период: сумма сделки из CRM, иначе средний чек."), (0, 14, 6, 6)),
        (stat("Выше среднего дня", [q("card2_totals")], ["above_average_pct"], unit="percent", color=LEAK_COLOR,
              no_value="нет истории", description="Против среднего дня за $baseline_days дней до периода."),
         (6, 14, 4, 3)),
        (stat("Случаев", [q("card2_totals")], ["cases"]), (6, 17, 4, 3)),
        (stat("Главная причина", [q("card2_by_leak")], ["leak_rub", "leak_pct", "cases"], rows=1, unit=RUB,
              color=LEAK_COLOR, display_name="${__data.fields.leak}", overrides=[
                  override("leak_pct", {"displayName": "доля", "unit": "percent"}),
                  override("cases", {"displayName": "случаев", "unit": "none"})]), (10, 14, 14, 6)),
        (bar_chart("Утечка по причинам — ${metric:text}", [q("card2_by_leak")], "leak", overrides=[
            override("value", {"displayName": "${metric:text}", "color": {"mode": "fixed", "fixedColor": LEAK_COLOR}}),
            override("leak_rub", {**in_tooltip, "displayName": "Сумма", "unit": RUB}),
            override("cases", {**in_tooltip, "displayName": "Случаев"}),
            override("hot_cases", {**in_tooltip, "displayName": "Горячих"}),
            override("leak_pct", {**in_tooltip, "displayName": "Доля", "unit": "percent"})],
            description="Переключатель «Сумма / Количество» вверху доски."), (0, 20, 14, 9)),
        (stat("Этап главной утечки", [q("card2_main_stage")], ["stage_rub"], rows=1, unit=RUB, color=LEAK_COLOR,
              display_name="${__data.fields.stage}", no_value="—"), (14, 20, 10, 4)),
        (stat("Горячие среди потерянных", [q("card2_totals")], ["hot_cases", "cases"], color=LEAK_COLOR, overrides=[
            override("cases", {"displayName": "потеряно"}), override("hot_cases", {"displayName": "из них горячих"})],
              description="Клиенты были готовы купить."), (14, 24, 10, 5)),
    ]


def _cases(q) -> list[tuple[dict, tuple[int, int, int, int]]]:
    names = {"lost_at": "Когда", "deal_id": "Сделка", "manager": "Менеджер", "pipeline": "Воронка",
             "stage": "Этап", "reason": "Причина", "leak": "Утечка", "money_rub": "Сумма", "hot": "Горячий",
             "status": "Вердикт", "manager_reason": "Со слов менеджера", "evidence": "Цитата"}
    extra = {
        "money_rub": {"unit": RUB, "decimals": 0},
        "hot": {"mappings": [{"type": "value", "options": {"1": {"text": "да", "index": 0}, "0": {"text": "нет", "index": 1}}}]},
        "status": {"mappings": [{"type": "value", "options": {
            "provisional": {"text": "условный", "index": 0}, "confirmed": {"text": "подтверждён", "index": 1}}}]},
    }
    return [
        (row("Спасаемые случаи"), (0, 29, 24, 1)),
        (table("Кого можно было удержать", [q("salvageable_cases")],
               overrides=[override(f, {"displayName": title, **extra.get(f, {})}) for f, title in names.items()]),
         (0, 30, 24, 12)),
    ]


def _managers(q) -> list[tuple[dict, tuple[int, int, int, int]]]:
    names = {"manager": "Менеджер", "refusals": "Отказов", "stated": "Причина указана", "mismatches": "Не совпала",
             "mismatch_pct": "Не совпала, %", "cases": "Спасаемых", "leak_rub": "Утечка", "top_leak": "Главная утечка"}
    extra = {"leak_rub": {"unit": RUB, "decimals": 0}, "mismatch_pct": {"unit": "percent", "decimals": 0}}
    return [
        (row("Менеджеры"), (0, 42, 24, 1)),
        (table("Утечка и причины менеджеров", [q("managers")],
               overrides=[override(f, {"displayName": title, **extra.get(f, {})}) for f, title in names.items()],
               description="Как часто причина со слов менеджера не совпала с настоящей (из отказов, где он её "
                           "указал), и утечка каждого менеджера за период."),
         (0, 43, 24, 9)),
    ]


def _variables(datasource_uid: str, baseline_days: int) -> list[dict]:
    datasource = {"type": CLICKHOUSE_TYPE, "uid": datasource_uid}
    everything = {"selected": True, "text": ["All"], "value": ["$__all"]}

    def query_variable(name: str, label: str) -> dict:
        sql = VARIABLES[name]
        return {"type": "query", "name": name, "label": label, "datasource": datasource, "query": sql,
                "definition": sql, "multi": True, "includeAll": True, "current": everything, "options": [],
                "refresh": 2, "sort": 1, "hide": 0}

    metric = [("Сумма", "sum"), ("Количество", "count")]
    return [
        query_variable("pipeline", "Воронка"),
        query_variable("manager", "Менеджер"),
        {"type": "custom", "name": "metric", "label": "Сумма / Количество", "hide": 0,
         "query": ",".join(f"{text} : {value}" for text, value in metric),
         "current": {"selected": True, "text": metric[0][0], "value": metric[0][1]},
         "options": [{"selected": i == 0, "text": text, "value": value} for i, (text, value) in enumerate(metric)]},
        {"type": "constant", "name": "baseline_days", "hide": 2, "query": str(baseline_days),
         "current": {"text": str(baseline_days), "value": str(baseline_days)}},
    ]


def build_dashboard(datasource_uid: str = CLICKHOUSE_UID, *, timezone: str = DEFAULT_TIMEZONE,
                    baseline_days: int = DEFAULT_BASELINE_DAYS) -> dict:
    def q(name: str) -> dict:
        return target(CARDS[name], datasource_uid)

    layout = [*_card1(q), *_card2(q), *_cases(q), *_managers(q)]
    panels = [{"id": i, "gridPos": {"x": x, "y": y, "w": w, "h": h}, **panel}
              for i, (panel, (x, y, w, h)) in enumerate(layout, 1)]
    return {
        "uid": DASHBOARD_UID,
        "title": DASHBOARD_TITLE,
        "description": "Где отдел продаж теряет деньги: отказы целевых лидов и потенциально потерянная выручка.",
        "tags": ["leakwatch", "продажи"],
        "timezone": timezone,
        "weekStart": "monday",
        "time": {"from": "now/d", "to": "now/d"},  # today; the time picker sets the period
        "timepicker": {"refresh_intervals": ["10s", "30s", "1m", "5m", "15m"]},
        "refresh": "10s",
        "editable": True,
        "graphTooltip": 0,
        "liveNow": False,
        "schemaVersion": 39,
        "version": 1,
        "links": [],
        "annotations": {"list": []},
        "templating": {"list": _variables(datasource_uid, baseline_days)},
        "panels": panels,
    }

"""Grafana panel JSON (dashboard schema 39, Grafana 10.4+) for ClickHouse SQL panels. Pure.

Only what the board uses: stats, a bar gauge, bar charts, a table and rows. Every
panel's SQL is passed in unchanged, so it stays exactly the cards' SQL. Layout (`id`,
`gridPos`) is set by the dashboard, not here.
"""

from __future__ import annotations

from collections.abc import Sequence

from leakwatch.grafana import CLICKHOUSE_TYPE

RUB = "currencyRUB"  # Grafana's ruble unit: ₽1 248 700
HIDDEN = {"legend": True, "tooltip": False, "viz": True}  # in the tooltip only


def target(sql: str, datasource_uid: str, ref_id: str = "A") -> dict:
    """A raw SQL query of the ClickHouse plugin (v4): table format, so every column is a field."""
    return {
        "refId": ref_id,
        "datasource": {"type": CLICKHOUSE_TYPE, "uid": datasource_uid},
        "editorType": "sql",
        "queryType": "table",
        "format": 1,  # sqlutil.FormatOptionTable
        "rawSql": sql,
    }


def override(field: str, properties: dict[str, object]) -> dict:
    """Field config for one field by name, e.g. {"displayName": "…", "custom.hideFrom": HIDDEN}."""
    return {
        "matcher": {"id": "byName", "options": field},
        "properties": [{"id": key, "value": value} for key, value in properties.items()],
    }


def fields_regex(fields: Sequence[str]) -> str:
    return "/^(" + "|".join(fields) + ")$/"


def _panel(kind: str, title: str, targets: list[dict], options: dict, defaults: dict,
           overrides: Sequence[dict] = (), description: str = "") -> dict:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": targets[0]["datasource"],
        "targets": targets,
        "options": options,
        "fieldConfig": {"defaults": defaults, "overrides": list(overrides)},
    }


def _fixed(color: str) -> dict:
    return {"color": {"mode": "fixed", "fixedColor": color},
            "thresholds": {"mode": "absolute", "steps": [{"color": color, "value": None}]}}


def stat(title: str, targets: list[dict], fields: Sequence[str], *, unit: str = "none", color: str = "text",
         rows: int | None = None, display_name: str | None = None, big: bool = False, no_value: str = "0",
         overrides: Sequence[dict] = (), description: str = "") -> dict:
    """Shows the named fields (a string field shows as text). `rows=n` shows the first n
    rows instead of one value per field, named by `display_name` (e.g. `${__data.fields.x}`)."""
    reduce = {"values": rows is not None, "calcs": ["lastNotNull"], "fields": fields_regex(fields)}
    if rows is not None:
        reduce["limit"] = rows
    defaults = {"unit": unit, "decimals": 0, "noValue": no_value, **_fixed(color)}
    if display_name:
        defaults["displayName"] = display_name
    options = {
        "reduceOptions": reduce,
        "textMode": "value" if len(fields) == 1 and not display_name else "value_and_name",
        "colorMode": "background" if big else "value",
        "graphMode": "none",
        "justifyMode": "center",
        "orientation": "auto",
        "wideLayout": True,
        "showPercentChange": False,
    }
    if big:
        options["text"] = {"valueSize": 64}
    return _panel("stat", title, targets, options, defaults, overrides, description)


def bar_gauge(title: str, targets: list[dict], fields: Sequence[str], *, unit: str, max_value: float,
              overrides: Sequence[dict] = (), description: str = "") -> dict:
    options = {
        "reduceOptions": {"values": False, "calcs": ["lastNotNull"], "fields": fields_regex(fields)},
        "orientation": "horizontal",
        "displayMode": "basic",
        "valueMode": "color",
        "namePlacement": "left",
        "showUnfilled": True,
        "sizing": "auto",
    }
    defaults = {"unit": unit, "decimals": 0, "min": 0, "max": max_value, "color": {"mode": "fixed", "fixedColor": "text"}}
    return _panel("bargauge", title, targets, options, defaults, overrides, description)


def bar_chart(title: str, targets: list[dict], x_field: str, *, stacked: bool = False,
              overrides: Sequence[dict] = (), description: str = "") -> dict:
    """One bar (or stack) per row, labelled by `x_field`; every numeric field not hidden is a bar."""
    options = {
        "xField": x_field,
        "orientation": "horizontal",
        "stacking": "normal" if stacked else "none",
        "showValue": "always",
        "groupWidth": 0.7,
        "barWidth": 0.8,
        "xTickLabelRotation": 0,
        "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "none"},
    }
    defaults = {"unit": "none", "decimals": 0, "color": {"mode": "palette-classic"},
                "custom": {"fillOpacity": 85, "lineWidth": 0, "gradientMode": "none"}}
    return _panel("barchart", title, targets, options, defaults, overrides, description)


def table(title: str, targets: list[dict], *, overrides: Sequence[dict] = (), description: str = "") -> dict:
    options = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"], "fields": ""}}
    defaults = {"custom": {"align": "auto", "filterable": True}}
    return _panel("table", title, targets, options, defaults, overrides, description)


def row(title: str) -> dict:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}

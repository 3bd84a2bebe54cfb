"""What a Grafana panel shows for its queries' rows: a small model of Grafana's field
display for the panel types the board uses (stat, bar gauge, bar chart, table). Enough to
check that each panel picks the intended columns and names them as intended."""

from __future__ import annotations

import re


def _overrides(panel: dict) -> dict[str, dict]:
    return {o["matcher"]["options"]: {p["id"]: p["value"] for p in o["properties"]}
            for o in panel["fieldConfig"]["overrides"] if o["matcher"]["id"] == "byName"}


def display_name(panel: dict, field: str, row: dict | None = None) -> str:
    name = (_overrides(panel).get(field, {}).get("displayName")
            or panel["fieldConfig"]["defaults"].get("displayName") or field)
    if row is not None:  # ${__data.fields.x}: the row's value of field x
        name = re.sub(r"\$\{__data\.fields\.(\w+)\}", lambda m: str(row[m.group(1)]), name)
    return name


def selected_fields(panel: dict, columns: list[str]) -> list[str]:
    pattern = panel["options"]["reduceOptions"]["fields"]
    assert pattern.startswith("/") and pattern.endswith("/"), pattern
    return [c for c in columns if re.fullmatch(pattern[1:-1], c)]


def hidden(panel: dict, field: str) -> bool:
    return bool(_overrides(panel).get(field, {}).get("custom.hideFrom", {}).get("viz"))


def shown(panel: dict, frames: list[list[dict]]):
    """stat/bargauge: [(name, value)]; barchart: {x: {bar name: value}}; table: rows."""
    kind = panel["type"]
    if kind in ("stat", "bargauge"):
        reduce, out = panel["options"]["reduceOptions"], []
        for rows in frames:
            fields = selected_fields(panel, list(rows[0]) if rows else [])
            if reduce["values"]:
                out += [(display_name(panel, f, row), row[f]) for row in rows[:reduce.get("limit")] for f in fields]
            else:
                out += [(display_name(panel, f), next((r[f] for r in reversed(rows) if r[f] is not None), None))
                        for f in fields]
        return out
    if kind == "barchart":
        x = panel["options"]["xField"]
        return {row[x]: {display_name(panel, f): v for f, v in row.items() if f != x and not hidden(panel, f)}
                for rows in frames for row in rows}
    if kind == "table":
        return [row for rows in frames for row in rows]
    raise ValueError(f"no model of a {kind} panel")

"""Expand the Grafana ClickHouse plugin's macros and dashboard variables, as the plugin
does, so the cards' SQL runs unchanged outside Grafana. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

ALL = "$__all"  # Grafana's value for "All" when a variable has no custom all value


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _values(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _is_all(value: str | Sequence[str]) -> bool:
    values = _values(value)
    return not values or ALL in values


def _split_args(text: str, start: int) -> tuple[list[str], int]:
    """Arguments of a macro call starting after its "(", honouring nested parentheses."""
    depth, args, current, i = 1, [], [], start
    while i < len(text):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    raise ValueError("unbalanced parentheses in macro call")


def _expand_calls(sql: str, name: str, render) -> str:
    token = f"$__{name}("
    while (pos := sql.find(token)) >= 0:
        args, end = _split_args(sql, pos + len(token))
        sql = sql[:pos] + render(args) + sql[end:]
    return sql


def expand(sql: str, *, time_from: datetime, time_to: datetime,
           variables: Mapping[str, str | Sequence[str]]) -> str:
    start, end = int(time_from.timestamp()), int(time_to.timestamp())

    def conditional_all(args: list[str]) -> str:
        condition, var = args[0], args[1].lstrip("$").strip("{}")
        return "1=1" if _is_all(variables.get(var, ALL)) else condition

    # $__conditionalAll first: its condition holds variables expanded below.
    sql = _expand_calls(sql, "conditionalAll", conditional_all)
    sql = _expand_calls(sql, "timeFilter",
                        lambda a: f"{a[0]} >= toDateTime({start}) AND {a[0]} <= toDateTime({end})")
    sql = sql.replace("$__fromTime", f"toDateTime({start})").replace("$__toTime", f"toDateTime({end})")

    def variable(match: re.Match) -> str:
        name = match.group("braced") or match.group("plain")
        fmt = match.group("fmt")
        if name not in variables:
            raise KeyError(f"dashboard variable ${name} has no value")
        values = _values(variables[name])
        if fmt == "singlequote":
            return ",".join(_quote(v) for v in values)
        if fmt is not None:
            raise ValueError(f"unsupported variable format {fmt!r}")
        return ",".join(values)

    return re.sub(r"\$\{(?P<braced>\w+)(?::(?P<fmt>\w+))?\}|\$(?P<plain>[A-Za-z]\w*)", variable, sql)

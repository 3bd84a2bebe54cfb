"""Expand the Grafana ClickHouse plugin's macros and dashboard variables as Grafana does,
so the cards' SQL runs unchanged outside Grafana (the worker's /cards, the tests). Pure.

Grafana rewrites a panel's SQL in three steps; `expand` follows the same order:

1. The plugin's frontend (`CHDatasource.applyConditionalAll`) replaces
   `$__conditionalAll(condition, $var)`, last call first: the condition becomes `1=1`
   when the variable's current value is All (`$__all`) or empty, and stays otherwise.
   The variable is looked up by the exact name after `$`, so `${var}` there never matches.
2. Grafana's template service replaces dashboard variables: `${var:singlequote}` quotes
   each value; a plain `$var` is the value itself, or, for several values, the values
   quoted and comma-joined (the plugin's default formatter). `$__name` is left alone.
3. The plugin's backend (grafana-plugin-sdk-go `sqlutil.Interpolate` with the plugin's
   `pkg/macros`) expands `$__timeFilter(col)`, `$__fromTime` and `$__toTime` into
   `toDateTime(<unix seconds>)`. Its parser gives a macro the next parenthesised group as
   arguments whenever a `(` comes before any `)`, even for a macro without arguments:
   `$__fromTime AND f(x)` becomes `toDateTime(…)`, losing ` AND f(x)`. That trap is kept
   here on purpose, so SQL that would break in Grafana breaks in the tests too.

Stricter than Grafana, on purpose (/cards takes filter values from URLs): an unknown
variable is an error (Grafana leaves `$x` in the SQL); quoting also escapes backslashes
(Grafana's singlequote escapes only `'`, which lets a value ending in `\\` out of its
string); and a value holding `$__` is refused (step 3 would expand it inside its string).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from itertools import permutations

ALL = "$__all"  # Grafana's value for "All" when a variable has no custom all value

Value = str | Sequence[str]

_VARIABLE = re.compile(r"\$\{(?P<braced>\w+)(?::(?P<fmt>\w+))?\}|\$(?P<plain>\w+)")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _as_text(value: Value) -> str:
    """A variable's value as JavaScript's `toString()` shows it: list items comma-joined."""
    return value if isinstance(value, str) else ",".join(value)


def _split_args(text: str, start: int) -> tuple[list[str], int]:
    """Arguments of a call whose "(" ends just before `start`, split at top-level commas
    (not trimmed); and the index after its ")"."""
    depth, args, begin = 1, [], start
    for i in range(start, len(text)):
        ch = text[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(text[begin:i])
                return args, i + 1
        elif ch == "," and depth == 1:
            args.append(text[begin:i])
            begin = i + 1
    raise ValueError("unbalanced parentheses in macro call")


def expand_conditional_all(sql: str, variables: Mapping[str, Value]) -> str:
    token = "$__conditionalAll("
    while (pos := sql.rfind(token)) >= 0:
        args, end = _split_args(sql, pos + len(token))
        if len(args) != 2:
            raise ValueError(f"$__conditionalAll takes a condition and a $variable, got {len(args)} arguments")
        name = args[1].strip()[1:]  # the plugin strips one leading character: "$"
        value = variables.get(name)
        is_all = value is not None and _as_text(value) in ("", ALL)
        sql = sql[:pos] + ("1=1" if is_all else args[0]) + sql[end:]
    return sql


def expand_variables(sql: str, variables: Mapping[str, Value]) -> str:
    def replace(match: re.Match) -> str:
        name = match.group("braced") or match.group("plain")
        if name.startswith("__"):  # built-ins and the backend's macros
            return match.group(0)
        if name not in variables:
            raise KeyError(f"dashboard variable ${name} has no value")
        value, fmt = variables[name], match.group("fmt")
        if "$__" in _as_text(value):  # step 3 would expand it, even inside a string literal
            raise ValueError(f"the value of ${name} may not contain '$__'")
        if fmt == "singlequote" or (fmt is None and not isinstance(value, str)):
            return ",".join(_quote(v) for v in ([value] if isinstance(value, str) else value))
        if fmt is None:
            return value
        raise ValueError(f"unsupported variable format {fmt!r}")

    return _VARIABLE.sub(replace, sql)


def _macro_calls(sql: str, name: str) -> list[tuple[str, str]]:
    """(text, arguments) of each `$__name` call as sqlutil's getMacroMatches finds them."""
    calls = []
    for match in re.finditer(rf"\$__{name}\b", sql):
        rest, depth, arg_start, end = sql[match.start():], 0, 0, 0
        for i, ch in enumerate(rest):
            if depth == 0 and end:
                break
            if ch == "(":
                depth += 1
                arg_start = arg_start or i + 1
            elif ch == ")":
                if depth == 0:  # a ")" before any "(": the macro has no arguments
                    break
                depth -= 1
                end = i + 1
        if arg_start and not end:
            raise ValueError(f"unbalanced parentheses after $__{name}")
        end = end or match.end() - match.start()
        calls.append((rest[:end], rest[arg_start:end - 1] if arg_start else ""))
    return calls


def expand_time_macros(sql: str, time_from: datetime, time_to: datetime) -> str:
    """The backend's step. Grafana applies its macros in Go map order, which is random: SQL
    whose result depends on that order works only sometimes there, so it is an error here."""
    start, end = f"toDateTime({int(time_from.timestamp())})", f"toDateTime({int(time_to.timestamp())})"

    def time_filter(args: list[str]) -> str:
        if len(args) != 1:
            raise ValueError(f"$__timeFilter takes one column, got {len(args)} arguments")
        return f"{args[0]} >= {start} AND {args[0]} <= {end}"

    macros: dict[str, Callable[[list[str]], str]] = {
        "timeFilter": time_filter, "fromTime": lambda _: start, "toTime": lambda _: end,
    }

    def in_order(names: tuple[str, ...]) -> str:
        out = sql
        for name in names:
            for text, args in _macro_calls(out, name):
                out = out.replace(text, macros[name]([a.strip() for a in args.split(",")]))
        return out

    results = {in_order(names) for names in permutations(macros)}
    if len(results) > 1:
        raise ValueError("the SQL expands differently depending on the order Grafana applies its macros: "
                         "a macro without arguments takes the next parenthesised group when a '(' comes "
                         "before any ')'; wrap it in parentheses, e.g. ($__fromTime)")
    return results.pop()


def expand(sql: str, *, time_from: datetime, time_to: datetime, variables: Mapping[str, Value]) -> str:
    sql = expand_conditional_all(sql, variables)
    sql = expand_variables(sql, variables)
    return expand_time_macros(sql, time_from, time_to)


def variable_names(sql: str) -> set[str]:
    """Dashboard variables a query refers to (not the `$__` built-ins and macros)."""
    names = {m.group("braced") or m.group("plain") for m in _VARIABLE.finditer(sql)}
    return {n for n in names if not n.startswith("__")}

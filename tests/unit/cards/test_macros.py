"""The expander against the Grafana ClickHouse plugin's behaviour (CHDatasource.applyConditionalAll,
Grafana's singlequote formatter, grafana-plugin-sdk-go sqlutil.Interpolate with pkg/macros)."""

from datetime import datetime, timezone

import pytest

from leakwatch.cards.macros import ALL, expand, variable_names
from leakwatch.cards.queries import ALERTS, CARDS, VARIABLES

T0 = datetime(2026, 11, 18, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 19, tzinfo=timezone.utc)
S0, S1 = int(T0.timestamp()), int(T1.timestamp())
VARS = {"pipeline": ALL, "manager": "M", "metric": "sum", "baseline_days": "28"}


def run(sql: str, **variables) -> str:
    return expand(sql, time_from=T0, time_to=T1, variables=variables)


def test_time_macros_become_unix_seconds():
    assert run("WHERE $__timeFilter(lost_at) AND x < ($__toTime) AND y >= $__fromTime") == (
        f"WHERE lost_at >= toDateTime({S0}) AND lost_at <= toDateTime({S1})"
        f" AND x < (toDateTime({S1})) AND y >= toDateTime({S0})")


def test_a_macro_without_arguments_swallows_the_next_parenthesised_group():
    # sqlutil's parser: a "(" before any ")" opens the macro's arguments.
    assert run("SELECT $__fromTime AND f(1) AS x") == f"SELECT toDateTime({S0}) AS x"
    assert run("SELECT f($__fromTime) AND g(1)") == f"SELECT f(toDateTime({S0})) AND g(1)"


def test_sql_that_depends_on_grafanas_random_macro_order_is_an_error():
    # $__toTime's expansion brings a "(" after $__toTime: works in one order only.
    with pytest.raises(ValueError, match="order"):
        run("WHERE x < $__toTime AND y >= $__fromTime")


def test_conditional_all_and_quoting():
    template = "$__conditionalAll(manager IN (${manager:singlequote}), $manager)"
    assert run(template, manager=ALL) == "1=1"
    assert run(template, manager=[ALL]) == "1=1"  # a multi-value variable with All selected
    assert run(template, manager="") == "1=1"
    assert run(template, manager=["Анна", "O'Neil"]) == "manager IN ('Анна','O\\'Neil')"


def test_conditional_all_only_knows_plain_variable_references():
    # The plugin strips the first character of "${manager}": no such variable, condition kept.
    assert run("$__conditionalAll(x = 1, ${manager})", manager=ALL) == "x = 1"


def test_conditional_all_needs_two_arguments():
    with pytest.raises(ValueError):
        run("$__conditionalAll(x = 1)", manager=ALL)


def test_plain_variables_quote_several_values_like_the_plugins_formatter():
    assert run("'$metric' = 'count'", metric="count") == "'count' = 'count'"
    assert run("x IN ($m)", m=["a", "b"]) == "x IN ('a','b')"


def test_quoting_escapes_backslashes_too():
    assert run("${m:singlequote}", m="a\\") == "'a\\\\'"


def test_a_value_cannot_smuggle_a_macro():
    with pytest.raises(ValueError):
        run("$__conditionalAll(m IN (${m:singlequote}), $m)", m=["$__fromTime("])


def test_unknown_variable_is_an_error():
    with pytest.raises(KeyError):
        run("SELECT $nope")


def test_variable_names_skip_builtins():
    assert variable_names("$__timeFilter(t) AND $__conditionalAll(a IN (${b:singlequote}), $b) AND '$c'") == {"b", "c"}


@pytest.mark.parametrize("name", sorted({**CARDS, **ALERTS, **VARIABLES}))
def test_every_query_expands_completely_and_reads_final(name):
    sql = run({**CARDS, **ALERTS, **VARIABLES}[name], **VARS)
    assert "$" not in sql
    # Single rows need FINAL; the aggregates hold the newest verdicts' sums already, and
    # the cases list its rows' signs (summed where a -1 row is not merged yet).
    # Option lists may read superseded rows.
    assert ("FINAL" in sql or {"refusals_hourly", "refusals_timeline"} <= set(sql.split()) or name in VARIABLES
            or (name == "salvageable_cases" and "HAVING sum(sign) > 0)" in sql and "row_hash NOT IN" in sql))

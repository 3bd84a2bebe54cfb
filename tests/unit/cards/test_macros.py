from datetime import datetime, timezone

import pytest

from leakwatch.cards.macros import ALL, expand
from leakwatch.cards.queries import CARDS

T0 = datetime(2026, 11, 18, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 19, tzinfo=timezone.utc)


def test_time_macros():
    sql = expand("WHERE $__timeFilter(lost_at) AND x < $__toTime AND y >= $__fromTime",
                 time_from=T0, time_to=T1, variables={})
    assert sql == (f"WHERE lost_at >= toDateTime({int(T0.timestamp())}) AND lost_at <= toDateTime({int(T1.timestamp())})"
                   f" AND x < toDateTime({int(T1.timestamp())}) AND y >= toDateTime({int(T0.timestamp())})")


def test_conditional_all_and_quoting():
    template = "$__conditionalAll(manager IN (${manager:singlequote}), $manager)"
    assert expand(template, time_from=T0, time_to=T1, variables={"manager": ALL}) == "1=1"
    assert expand(template, time_from=T0, time_to=T1, variables={"manager": ["Анна", "O'Neil"]}) == \
        "manager IN ('Анна','O\\'Neil')"


def test_unknown_variable_is_an_error():
    with pytest.raises(KeyError):
        expand("SELECT $nope", time_from=T0, time_to=T1, variables={})


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_card_query_expands_completely(name):
    sql = expand(CARDS[name], time_from=T0, time_to=T1,
                 variables={"pipeline": ALL, "manager": "M", "metric": "sum", "baseline_days": "28"})
    assert "$" not in sql and "FINAL" in sql

"""The cards' SQL, defined once. Grafana panels, alert rules, the terminal board, the
worker's /cards endpoint and the tests all use these strings.

They are written for the Grafana ClickHouse plugin: `$__timeFilter`, `$__fromTime`,
`$__toTime`, `$__conditionalAll` and dashboard variables (`$pipeline`, `$manager`,
`$metric`, `$baseline_days`). `macros.expand` performs the same substitution for
everything outside Grafana. Alert rules run in Grafana's backend only, where neither
`$__conditionalAll` nor dashboard variables exist: the ALERTS use the time macros and
`$baseline_days` alone, which `leakwatch grafana build` writes into each rule as a number.
A macro without arguments is written `($__fromTime)` when a `(` could follow it: see
`macros.expand_time_macros` for the plugin's parser trap.

The cards' numbers come from the aggregates of leakwatch/store/migrations/011_cards_aggregates.sql,
sums over the newest verdict of every deal read without FINAL: `refusals_hourly` for the
whole hours of a period, `refusals_timeline` for the partial hours at its ends (see
`period_rows`). The drill-down list reads single refusals from `refusals_by_day`
(010_refusals_by_day.sql: the newest verdict per deal under the day it was lost) with FINAL
(a ReplacingMergeTree: only FINAL sees exactly the newest row per key) and `active = 1` (a
deal lost again on another day leaves a tombstone under the old one); the salvageable cases
list reads the same rows from `salvageable_cases`, reconciled from it (see SALVAGEABLE_CASES).
"""

from __future__ import annotations

FILTERS = (
    "$__conditionalAll(pipeline IN (${pipeline:singlequote}), $pipeline)"
    " AND $__conditionalAll(manager IN (${manager:singlequote}), $manager)"
)
SALVAGEABLE_KIND = "kind = 'salvageable'"
# Drill-downs read single refusals: the newest verdicts of the period, after the filters.
PERIOD = f"active = 1 AND target = 1 AND $__timeFilter(lost_at) AND {FILTERS}"
SALVAGEABLE = f"{PERIOD} AND {SALVAGEABLE_KIND}"

_SUMS = "refusals, money_rub, avg_check_rub, hot, stated, mismatches, confirmed"
_KEY = "pipeline, manager, reason, kind, leak, stage_before_loss"


def period_rows(lo: str, hi: str, *, hi_inclusive: bool = True, where: str = "1 = 1") -> str:
    """Target refusals lost in [lo, hi] ([lo, hi) unless hi_inclusive) as summable rows
    (day, the cards' dimensions, sums), no FINAL: the whole UTC hours from refusals_hourly,
    the partial hours at either end from refusals_timeline (per lost_at, so to the ms).
    The hours [first, last) are whole: every lost_at in them passes the filter (to the
    millisecond, since the bounds are whole seconds). Every `sum` over these rows equals
    the same `count`/`sum` over the newest verdicts; a group's rows may add up to zero
    (a not yet merged correction), so grouped readers keep only groups with refusals."""
    first = f"toStartOfHour({lo} + INTERVAL 3599 SECOND, 'UTC')"
    last = f"toStartOfHour({hi}, 'UTC')"
    below = "<=" if hi_inclusive else "<"
    return f"""
    SELECT toDate(hour) AS day, {_KEY}, {_SUMS}
    FROM refusals_hourly
    WHERE hour >= {first} AND hour < {last} AND {where}
    UNION ALL
    SELECT toDate(lost_at) AS day, {_KEY}, {_SUMS}
    FROM refusals_timeline
    WHERE lost_at >= {lo} AND lost_at {below} {hi}
      AND (lost_at < {first} OR lost_at >= greatest({first}, {last})) AND {where}
"""


FROM, TO = "($__fromTime)", "($__toTime)"  # in parentheses: see macros.expand_time_macros
PERIOD_ROWS = period_rows(FROM, TO, where=FILTERS)
SALVAGEABLE_ROWS = period_rows(FROM, TO, where=f"{FILTERS} AND {SALVAGEABLE_KIND}")

# real_pct is 100 - salvageable_pct, so the share bar always adds up to 100.
CARD1_TOTALS = f"""
SELECT
    sum(refusals) AS total,
    sumIf(refusals, kind = 'salvageable') AS salvageable,
    sumIf(refusals, kind = 'real') AS real,
    if(total = 0, 0, round(100 * salvageable / total)) AS salvageable_pct,
    if(total = 0, 0, 100 - salvageable_pct) AS real_pct,
    sumIf(avg_check_rub, kind = 'salvageable') AS potential_lost_rub,
    if(salvageable = 0, 0, intDiv(potential_lost_rub, salvageable)) AS average_check_rub,
    sum(mismatches) AS reason_mismatches,
    sum(confirmed) AS confirmed
FROM ({PERIOD_ROWS})
"""

CARD1_BY_REASON = f"""
SELECT
    reason,
    sumIf(refusals, kind = 'salvageable') AS salvageable,
    sumIf(refusals, kind = 'real') AS real,
    sum(refusals) AS total
FROM ({PERIOD_ROWS})
GROUP BY reason
HAVING total != 0
ORDER BY total DESC, reason
"""

# The average day: leak per day that had any target refusal in the baseline window
# before the period, so a young installation is not compared with empty days.
def baseline_daily(where: str) -> str:
    """Salvageable money per day with any target refusal in the $baseline_days before the period."""
    rows = period_rows(f"{FROM} - INTERVAL $baseline_days DAY", FROM, hi_inclusive=False, where=where)
    return f"""(
        SELECT if(count() = 0, 0, sum(day_rub) / count())
        FROM (
            SELECT day, sumIf(money_rub, kind = 'salvageable') AS day_rub
            FROM ({rows})
            GROUP BY day
            HAVING sum(refusals) != 0
        )
    )"""


CARD2_TOTALS = f"""
SELECT
    sum(money_rub) AS leak_rub,
    sum(refusals) AS cases,
    sum(hot) AS hot_cases,
    {baseline_daily(FILTERS)} AS baseline_daily_rub,
    greatest(dateDiff('second', {FROM}, {TO}), 1) / 86400 AS period_days,
    if(baseline_daily_rub = 0, NULL,
       round(100 * (leak_rub / (baseline_daily_rub * period_days) - 1))) AS above_average_pct
FROM ({SALVAGEABLE_ROWS})
"""

CARD2_BY_LEAK = f"""
SELECT
    leak,
    sum(money_rub) AS leak_rub,
    sum(refusals) AS cases,
    sum(hot) AS hot_cases,
    round(100 * leak_rub / sum(sum(money_rub)) OVER ()) AS leak_pct,
    if('$metric' = 'count', cases, leak_rub) AS value
FROM ({SALVAGEABLE_ROWS})
GROUP BY leak
HAVING cases != 0
ORDER BY leak_rub DESC, leak
"""

CARD2_MAIN_STAGE = f"""
SELECT
    stage_before_loss AS stage,
    sum(money_rub) AS stage_rub,
    sum(refusals) AS cases
FROM ({SALVAGEABLE_ROWS})
WHERE leak IN (  -- IN, not =: an empty period has no main leak and no scalar to compare
    SELECT leak FROM ({SALVAGEABLE_ROWS})
    GROUP BY leak HAVING sum(refusals) != 0 ORDER BY sum(money_rub) DESC, leak LIMIT 1)
GROUP BY stage
HAVING cases != 0
ORDER BY stage_rub DESC, stage
LIMIT 1
"""

# The list reads salvageable_cases (012_salvageable_cases.sql), not refusals_by_day FINAL:
# the same rows (the newest active target salvageable verdicts), without FINAL. A case is
# listed when its signs add up to 1: one +1 row, unless a -1 row of the same case is not
# merged away yet; those few (row_hash among the -1 rows) are summed per every column in
# the second branch. The top 500 of the union is the top 500 of all listed cases, since
# the first branch holds the top 500 of every other case. deal_id breaks ties in money
# and time (a deal is listed once), so the order is the same on every read; DESC, so the
# order is the table's sort key backwards and the first branch reads only the top of it.
CASE_COLUMNS = (
    "lost_at, deal_id, manager, pipeline, stage_before_loss, reason, leak, money_rub, hot, status, manager_reason,"
    " evidence"
)
CASES_ORDER = "money_rub DESC, lost_at DESC, deal_id DESC"
_CASES_PERIOD = f"$__timeFilter(lost_at) AND {FILTERS}"


def _unmerged_hashes(table: str, period: str) -> str:
    """The rows of a signed list whose -1 row is not merged away yet (few: merges drop pairs)."""
    return f"(SELECT row_hash FROM {table} WHERE sign = -1 AND {period})"


def _unmerged_rows(table: str, columns: str, period: str) -> str:
    """Those rows summed per every column: listed when their signs add up to more than 0."""
    return f"""(SELECT {columns}
     FROM {table}
     WHERE {period} AND row_hash IN {_unmerged_hashes(table, period)}
     GROUP BY {columns}
     HAVING sum(sign) > 0)"""


def _cases_list(period: str) -> str:
    return f"""
SELECT
    lost_at, deal_id, manager, pipeline, stage_before_loss AS stage, reason, leak,
    money_rub, hot, status, manager_reason, evidence
FROM (
    (SELECT {CASE_COLUMNS}
     FROM salvageable_cases
     WHERE sign = 1 AND {period} AND row_hash NOT IN {_unmerged_hashes("salvageable_cases", period)}
     ORDER BY {CASES_ORDER}
     LIMIT 500)
    UNION ALL
    {_unmerged_rows("salvageable_cases", CASE_COLUMNS, period)}
)
ORDER BY {CASES_ORDER}
LIMIT 500
"""


SALVAGEABLE_CASES = _cases_list(_CASES_PERIOD)
# The web board's list of one leak: filtered before the LIMIT, so it holds that leak's
# top 500 (not the few of them among the top 500 of all leaks).
SALVAGEABLE_CASES_OF_LEAK = _cases_list(f"{_CASES_PERIOD} AND leak = ${{leak:singlequote}}")

# Per manager for the period: how often the stated reason differed from the true one
# (of the refusals where the manager stated one), and the salvageable leak with its top
# reason by money. The inner query groups by (manager, leak) once; the outer picks the
# leak with the most money (ties by name), NULL leaks (real refusals) never win.
MANAGERS = f"""
SELECT
    manager,
    sum(leak_refusals) AS refusals,
    sum(leak_stated) AS stated,
    sum(leak_mismatches) AS mismatches,
    if(stated = 0, NULL, round(100 * mismatches / stated)) AS mismatch_pct,
    sum(leak_cases) AS cases,
    sum(leak_money) AS leak_rub,
    argMaxIf(leak, (leak_money, leak), leak IS NOT NULL) AS top_leak
FROM (
    SELECT
        manager, leak,
        sum(refusals) AS leak_refusals,
        sum(stated) AS leak_stated,
        sum(mismatches) AS leak_mismatches,
        sumIf(refusals, kind = 'salvageable') AS leak_cases,
        sumIf(money_rub, kind = 'salvageable') AS leak_money
    FROM ({PERIOD_ROWS})
    GROUP BY manager, leak
    HAVING leak_refusals != 0
)
GROUP BY manager
ORDER BY leak_rub DESC, manager
"""

CARDS = {
    "card1_totals": CARD1_TOTALS,
    "card1_by_reason": CARD1_BY_REASON,
    "card2_totals": CARD2_TOTALS,
    "card2_by_leak": CARD2_BY_LEAK,
    "card2_main_stage": CARD2_MAIN_STAGE,
    "salvageable_cases": SALVAGEABLE_CASES,
    "managers": MANAGERS,
}

# «Условный отказ» awaiting a QA lead: every active provisional verdict of the period (the
# AI may have called it non-target: that needs a look too). Verdicts the AI was unsure of
# (confidence below $low_confidence) come first, then the newest day, the most money.
# Read from review_queue (013_review_queue.sql) the way SALVAGEABLE_CASES reads
# salvageable_cases: the same rows as `refusals FINAL WHERE active = 1 AND status =
# 'provisional'`, without FINAL (deal_id ends the order: a deal is queued once). The unsure
# verdicts come first whatever their day, so they are a branch of their own.
QUEUE_COLUMNS = (
    "deal_id, version, lost_at, manager, pipeline, stage_before_loss, money_rub, target, reason, kind, leak, hot,"
    " confidence, evidence, engine_name, manager_reason, reason_mismatch"
)
QUEUE_ORDER = (
    "confidence < $low_confidence DESC, toDate(lost_at, ${timezone:singlequote}) DESC, money_rub DESC, lost_at DESC,"
    " deal_id"
)
_QUEUE_PERIOD = f"$__timeFilter(lost_at) AND {FILTERS}"
_QUEUE_UNMERGED = _unmerged_hashes("review_queue", _QUEUE_PERIOD)
_UNSURE = "confidence < $low_confidence"
_SURE = f"NOT ({_UNSURE})"  # NaN is not below the threshold: sure, as the ORDER BY has it


def _queue_from(group: str) -> str:
    """Where a group's (unsure or sure verdicts) top 500 starts: within the group the order
    is the newest (local) day first, so it lies on the newest days of the period, from the
    newest back to the first that brings the group's count to 500 (signs summed per day:
    exact, merged or not). Counted over the period's last two days only, to stay cheap: a
    count over fewer rows can only find that day or an earlier one (safe: it reads more);
    when those days hold fewer than 500, the whole period is read (few rows to read then)."""
    return f"""(
        SELECT ifNull(toDateTime64(maxOrNull(day), 3, ${{timezone:singlequote}}), toDateTime64(0, 3, 'UTC'))
        FROM (
            SELECT day, sum(n) OVER (ORDER BY day DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS newer
            FROM (
                SELECT toDate(lost_at, ${{timezone:singlequote}}) AS day, sum(sign) AS n
                FROM review_queue
                WHERE {_QUEUE_PERIOD} AND lost_at >= {TO} - INTERVAL 2 DAY AND {group}
                GROUP BY day
            )
        )
        WHERE newer >= 500
    )"""


def _queue_top(group: str) -> str:
    return f"""(SELECT {QUEUE_COLUMNS}
     FROM review_queue
     WHERE sign = 1 AND {_QUEUE_PERIOD} AND {group} AND lost_at >= {_queue_from(group)}
       AND row_hash NOT IN {_QUEUE_UNMERGED}
     ORDER BY {QUEUE_ORDER}
     LIMIT 500)"""


REVIEW_QUEUE = f"""
SELECT
    deal_id, version, lost_at, manager, pipeline, stage_before_loss AS stage, money_rub,
    target, reason, kind, leak, hot, confidence, confidence < $low_confidence AS low_confidence,
    evidence, engine_name, manager_reason, reason_mismatch
FROM (
    {_queue_top(_UNSURE)}
    UNION ALL
    {_queue_top(_SURE)}
    UNION ALL
    {_unmerged_rows("review_queue", QUEUE_COLUMNS, _QUEUE_PERIOD)}
)
ORDER BY {QUEUE_ORDER}
LIMIT 500
"""

BOARD = {"review_queue": REVIEW_QUEUE, "salvageable_cases_of_leak": SALVAGEABLE_CASES_OF_LEAK}

# Alert rules (Grafana-managed, evaluated without dashboard variables). Each returns one
# numeric column, which Grafana alerts on as a number; the thresholds live in the rules.
ALERT_SALVAGEABLE_ROWS = period_rows(FROM, TO, where=SALVAGEABLE_KIND)

# Leak of the rule's window over the average day before it (per day that had any target
# refusal, as card 2 counts it); 0 without history, so a new installation stays quiet.
ALERT_LEAK_SPIKE = f"""
SELECT if(baseline_daily_rub = 0, 0, round(leak_rub / (baseline_daily_rub * period_days), 3)) AS leak_ratio
FROM (
    SELECT
        (SELECT sum(money_rub) FROM ({ALERT_SALVAGEABLE_ROWS})) AS leak_rub,
        {baseline_daily('1 = 1')} AS baseline_daily_rub,
        greatest(dateDiff('second', {FROM}, {TO}), 1) / 86400 AS period_days
)
"""

# Salvageable refusals lost within the rule's window (the last hour).
ALERT_SALVAGEABLE_BURST = f"""
SELECT sum(refusals) AS salvageable_refusals
FROM ({ALERT_SALVAGEABLE_ROWS})
"""

ALERTS = {
    "alert_leak_spike": ALERT_LEAK_SPIKE,
    "alert_salvageable_burst": ALERT_SALVAGEABLE_BURST,
}

# Options of the dashboard's filters. No FINAL: a superseded row can only add a name that
# a newer row of the same deal does not have, which costs one extra option, not a number.
VARIABLE_PIPELINES = """
SELECT DISTINCT pipeline FROM refusals WHERE target = 1 ORDER BY pipeline
"""
VARIABLE_MANAGERS = """
SELECT DISTINCT manager FROM refusals
WHERE target = 1 AND $__conditionalAll(pipeline IN (${pipeline:singlequote}), $pipeline)
ORDER BY manager
"""

VARIABLES = {
    "pipeline": VARIABLE_PIPELINES,
    "manager": VARIABLE_MANAGERS,
}

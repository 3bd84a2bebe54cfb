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

The cards read `refusals_by_day` (leakwatch/store/migrations/010_refusals_by_day.sql): the newest
verdict per deal under the day it was lost, so a period reads its own days only. Every
read uses FINAL (a ReplacingMergeTree: only FINAL sees exactly the newest row per key) and
`active = 1` (a deal lost again on another day leaves a tombstone under the old one).
"""

from __future__ import annotations

FILTERS = (
    "$__conditionalAll(pipeline IN (${pipeline:singlequote}), $pipeline)"
    " AND $__conditionalAll(manager IN (${manager:singlequote}), $manager)"
)
# Target refusals of the period, after the newest verdict and filters.
PERIOD = f"active = 1 AND target = 1 AND $__timeFilter(lost_at) AND {FILTERS}"
SALVAGEABLE = f"{PERIOD} AND kind = 'salvageable'"

# real_pct is 100 - salvageable_pct, so the share bar always adds up to 100.
CARD1_TOTALS = f"""
SELECT
    count() AS total,
    countIf(kind = 'salvageable') AS salvageable,
    countIf(kind = 'real') AS real,
    if(total = 0, 0, round(100 * salvageable / total)) AS salvageable_pct,
    if(total = 0, 0, 100 - salvageable_pct) AS real_pct,
    sumIf(avg_check_rub, kind = 'salvageable') AS potential_lost_rub,
    if(salvageable = 0, 0, intDiv(potential_lost_rub, salvageable)) AS average_check_rub,
    countIf(reason_mismatch = 1) AS reason_mismatches,
    countIf(status = 'confirmed') AS confirmed
FROM refusals_by_day FINAL
WHERE {PERIOD}
"""

CARD1_BY_REASON = f"""
SELECT
    reason,
    countIf(kind = 'salvageable') AS salvageable,
    countIf(kind = 'real') AS real,
    count() AS total
FROM refusals_by_day FINAL
WHERE {PERIOD}
GROUP BY reason
ORDER BY total DESC, reason
"""

# The average day: leak per day that had any target refusal in the baseline window
# before the period, so a young installation is not compared with empty days.
CARD2_TOTALS = f"""
SELECT
    sum(money_rub) AS leak_rub,
    count() AS cases,
    countIf(hot = 1) AS hot_cases,
    (
        SELECT if(uniqExact(toDate(lost_at)) = 0, 0,
                  sumIf(money_rub, kind = 'salvageable') / uniqExact(toDate(lost_at)))
        FROM refusals_by_day FINAL
        WHERE active = 1 AND target = 1 AND {FILTERS}
          AND lost_at >= $__fromTime - INTERVAL $baseline_days DAY AND lost_at < $__fromTime
    ) AS baseline_daily_rub,
    greatest(dateDiff('second', $__fromTime, $__toTime), 1) / 86400 AS period_days,
    if(baseline_daily_rub = 0, NULL,
       round(100 * (leak_rub / (baseline_daily_rub * period_days) - 1))) AS above_average_pct
FROM refusals_by_day FINAL
WHERE {SALVAGEABLE}
"""

CARD2_BY_LEAK = f"""
SELECT
    leak,
    sum(money_rub) AS leak_rub,
    count() AS cases,
    countIf(hot = 1) AS hot_cases,
    round(100 * leak_rub / sum(sum(money_rub)) OVER ()) AS leak_pct,
    if('$metric' = 'count', cases, leak_rub) AS value
FROM refusals_by_day FINAL
WHERE {SALVAGEABLE}
GROUP BY leak
ORDER BY leak_rub DESC, leak
"""

CARD2_MAIN_STAGE = f"""
SELECT
    stage_before_loss AS stage,
    sum(money_rub) AS stage_rub,
    count() AS cases
FROM refusals_by_day FINAL
WHERE {SALVAGEABLE}
  AND leak IN (  -- IN, not =: an empty period has no main leak and no scalar to compare
      SELECT leak FROM refusals_by_day FINAL WHERE {SALVAGEABLE}
      GROUP BY leak ORDER BY sum(money_rub) DESC, leak LIMIT 1)
GROUP BY stage
ORDER BY stage_rub DESC, stage
LIMIT 1
"""

SALVAGEABLE_CASES = f"""
SELECT
    lost_at, deal_id, manager, pipeline, stage_before_loss AS stage, reason, leak,
    money_rub, hot, status, manager_reason, evidence
FROM refusals_by_day FINAL
WHERE {SALVAGEABLE}
ORDER BY money_rub DESC, lost_at DESC
LIMIT 500
"""

# Per manager for the period: how often the stated reason differed from the true one
# (of the refusals where the manager stated one), and the salvageable leak with its top
# reason by money. The inner query groups by (manager, leak) once; the outer picks the
# leak with the most money (ties by name), NULL leaks (real refusals) never win.
MANAGERS = f"""
SELECT
    manager,
    sum(refusals) AS refusals,
    sum(stated) AS stated,
    sum(mismatches) AS mismatches,
    if(stated = 0, NULL, round(100 * mismatches / stated)) AS mismatch_pct,
    sum(leak_cases) AS cases,
    sum(leak_money) AS leak_rub,
    argMaxIf(leak, (leak_money, leak), leak IS NOT NULL) AS top_leak
FROM (
    SELECT
        manager, leak,
        count() AS refusals,
        countIf(reason_mismatch IS NOT NULL) AS stated,
        countIf(reason_mismatch = 1) AS mismatches,
        countIf(kind = 'salvageable') AS leak_cases,
        sumIf(money_rub, kind = 'salvageable') AS leak_money
    FROM refusals FINAL
    WHERE {PERIOD}
    GROUP BY manager, leak
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
REVIEW_QUEUE = f"""
SELECT
    deal_id, version, lost_at, manager, pipeline, stage_before_loss AS stage, money_rub,
    target, reason, kind, leak, hot, confidence, confidence < $low_confidence AS low_confidence,
    evidence, engine_name, manager_reason, reason_mismatch
FROM refusals FINAL
WHERE active = 1 AND status = 'provisional' AND $__timeFilter(lost_at) AND {FILTERS}
ORDER BY low_confidence DESC, toDate(lost_at, ${{timezone:singlequote}}) DESC, money_rub DESC, lost_at DESC, deal_id
LIMIT 500
"""

BOARD = {"review_queue": REVIEW_QUEUE}

# Alert rules (Grafana-managed, evaluated without dashboard variables). Each returns one
# numeric column, which Grafana alerts on as a number; the thresholds live in the rules.
ALERT_SALVAGEABLE = "active = 1 AND target = 1 AND kind = 'salvageable'"

# Leak of the rule's window over the average day before it (per day that had any target
# refusal, as card 2 counts it); 0 without history, so a new installation stays quiet.
ALERT_LEAK_SPIKE = f"""
SELECT if(baseline_daily_rub = 0, 0, round(leak_rub / (baseline_daily_rub * period_days), 3)) AS leak_ratio
FROM (
    SELECT
        sumIf(money_rub, kind = 'salvageable' AND $__timeFilter(lost_at)) AS leak_rub,
        uniqExactIf(toDate(lost_at), lost_at < ($__fromTime)) AS history_days,
        if(history_days = 0, 0,
           sumIf(money_rub, kind = 'salvageable' AND lost_at < ($__fromTime)) / history_days) AS baseline_daily_rub,
        greatest(dateDiff('second', ($__fromTime), ($__toTime)), 1) / 86400 AS period_days
    FROM refusals_by_day FINAL
    WHERE active = 1 AND target = 1
      AND lost_at >= ($__fromTime) - INTERVAL $baseline_days DAY AND lost_at <= ($__toTime)
)
"""

# Salvageable refusals lost within the rule's window (the last hour).
ALERT_SALVAGEABLE_BURST = f"""
SELECT count() AS salvageable_refusals
FROM refusals_by_day FINAL
WHERE {ALERT_SALVAGEABLE} AND $__timeFilter(lost_at)
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

-- The salvageable cases list («Спасаемые случаи»): the newest active, target, salvageable
-- verdicts of refusals_by_day, read WITHOUT FINAL. A FINAL over a 30-day period merges
-- every version of every deal of those days (seconds on 10M refusals); this table holds
-- one +1 row per listed case, sorted by money so the top of a period is read first.
--
-- Kept by reconciling, like 011_cards_aggregates.sql: after a batch reaches refusals_by_day,
-- the writer (ClickHouseStore.reconcile_aggregates) inserts, per touched UTC day,
-- (the day's rows of refusals_by_day FINAL) - (the day's rows here, summed by sign), every
-- column compared: +1 for a case that appeared, -1 for one that is gone or changed
-- (superseded, retracted, re-classified, moved to another day). A fixpoint, so replays,
-- duplicates and a half-written delta stay exact; one writer per database.
--
-- Exact reads (leakwatch/cards/queries.py, SALVAGEABLE_CASES): a case is listed when its
-- signs add up to 1. A case with no -1 row has exactly one +1 row; the few cases with a
-- -1 row not yet collapsed by a merge (row_hash among the -1 rows) are summed per every
-- column. CollapsingMergeTree drops +1/-1 pairs in merges (same sort key: row_hash
-- covers every column), which keeps that second set small; the sums never depend on it.
CREATE TABLE IF NOT EXISTS salvageable_cases
(
    lost_at            DateTime64(3, 'UTC'),
    deal_id            String,
    status             LowCardinality(String),
    pipeline           LowCardinality(String),
    manager            LowCardinality(String),
    stage_before_loss  LowCardinality(String),
    money_rub          Int64,
    reason             LowCardinality(Nullable(String)),
    leak               LowCardinality(Nullable(String)),
    hot                UInt8,
    evidence           String,
    manager_reason     LowCardinality(Nullable(String)),
    sign               Int8,
    row_hash           UInt64 MATERIALIZED sipHash64(toString(tuple(lost_at, deal_id, status, pipeline, manager,
                           stage_before_loss, money_rub, reason, leak, hot, evidence, manager_reason)))
)
ENGINE = CollapsingMergeTree(sign)
PARTITION BY toYYYYMM(lost_at)
ORDER BY (money_rub, lost_at, deal_id, row_hash)

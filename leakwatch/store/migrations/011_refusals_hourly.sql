-- The cards' aggregate: target refusals per hour lost (UTC) and per the cards' dimensions,
-- with the sums the panels show. Exact for the newest verdict of every deal, read without
-- FINAL: a SummingMergeTree adds up every row of a key, merged or not, so a period's sums
-- are plain sum()s over its whole hours (leakwatch/cards/queries.py reads the partial hours
-- at either end from refusals_by_day).
--
-- Kept by reconciling, not by remembered deltas: after each batch reaches refusals_by_day
-- the writer (ClickHouseStore.reconcile_hours) inserts, for every day the batch touched,
-- (the day's sums from refusals_by_day FINAL) - (the sums this table holds for the day).
-- That is a fixpoint: run twice, the second run inserts nothing; run after a crash that
-- left a delta half-written, it inserts the rest. So replays, duplicates, superseded
-- versions and retractions stay exact without the writer knowing what it wrote before.
-- One writer per database (the sink): two reconciling the same day at once would both
-- insert the same difference.
CREATE TABLE IF NOT EXISTS refusals_hourly
(
    hour               DateTime('UTC'),
    pipeline           LowCardinality(String),
    manager            LowCardinality(String),
    reason             LowCardinality(Nullable(String)),
    kind               LowCardinality(Nullable(String)),
    leak               LowCardinality(Nullable(String)),
    stage_before_loss  LowCardinality(String),
    refusals           Int64,
    money_rub          Int64,
    avg_check_rub      Int64,
    hot                Int64,
    stated             Int64,
    mismatches         Int64,
    confirmed          Int64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, pipeline, manager, reason, kind, leak, stage_before_loss)
SETTINGS allow_nullable_key = 1

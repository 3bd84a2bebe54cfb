-- The cards' aggregates: sums over the newest verdict of every deal (active target
-- refusals only), per the cards' dimensions, read without FINAL. A SummingMergeTree adds
-- up every row of a key, merged or not, so a period's numbers are plain sum()s:
--   refusals_hourly    per UTC hour lost: the whole hours of a period (small: a 30-day
--                      period reads 720 hours whatever the number of refusals);
--   refusals_timeline  per lost_at (ms): the partial hours at a period's ends, sorted by
--                      time so they read only their own granules.
-- leakwatch/cards/queries.py (period_rows) combines the two.
--
-- Kept by reconciling, not by remembered deltas: after a batch reaches refusals_by_day, the
-- writer (ClickHouseStore.reconcile_aggregates) inserts, for each UTC day the batch touched,
-- (the day's sums from refusals_by_day FINAL) - (what refusals_timeline holds for the day),
-- then the same from refusals_timeline into refusals_hourly. Each step is a fixpoint: run
-- twice, the second inserts nothing; run after a crash that left a delta half-written, it
-- inserts the rest. Replays, duplicates, superseded versions and retractions stay exact
-- without the writer knowing what it wrote before. One writer per database (the sink):
-- two reconciling the same day at the same moment would both insert the same difference.
CREATE TABLE IF NOT EXISTS refusals_timeline
(
    lost_at            DateTime64(3, 'UTC'),
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
PARTITION BY toYYYYMM(lost_at)
ORDER BY (lost_at, pipeline, manager, reason, kind, leak, stage_before_loss)
SETTINGS allow_nullable_key = 1;

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

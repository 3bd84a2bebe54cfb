-- The review queue («Условный отказ» awaiting a QA lead): the newest verdict of every deal
-- in `refusals` that is active and provisional, read WITHOUT FINAL (a FINAL over
-- `refusals` merges every version of every deal ever stored, whatever the period).
--
-- Kept by reconciling per deal, the way 012_salvageable_cases.sql is per day: after a
-- batch reaches `refusals`, the writer (ClickHouseStore.insert_refusals) inserts, for the
-- batch's deals, (their rows of `refusals` FINAL that are active and provisional) - (their
-- rows here, summed by sign), every column compared. A fixpoint: a replay, a duplicate or
-- a crash before this step is made good by the next delivery of the batch. Read exactly
-- as salvageable_cases is (see leakwatch/cards/queries.py, REVIEW_QUEUE).
CREATE TABLE IF NOT EXISTS review_queue
(
    deal_id            String,
    version            UInt64,
    lost_at            DateTime64(3, 'UTC'),
    pipeline           LowCardinality(String),
    manager            LowCardinality(String),
    stage_before_loss  LowCardinality(String),
    money_rub          Int64,
    target             UInt8,
    reason             LowCardinality(Nullable(String)),
    kind               LowCardinality(Nullable(String)),
    leak               LowCardinality(Nullable(String)),
    hot                UInt8,
    confidence         Float32,
    evidence           String,
    engine_name        LowCardinality(String),
    manager_reason     LowCardinality(Nullable(String)),
    reason_mismatch    Nullable(UInt8),
    sign               Int8,
    row_hash           UInt64 MATERIALIZED sipHash64(toString(tuple(deal_id, version, lost_at, pipeline, manager,
                           stage_before_loss, money_rub, target, reason, kind, leak, hot, confidence, evidence,
                           engine_name, manager_reason, reason_mismatch))),
    INDEX deal deal_id TYPE bloom_filter GRANULARITY 1,      -- the reconcile's lookup per deal
    INDEX confidence confidence TYPE minmax GRANULARITY 1   -- the unsure verdicts, when they are few
)
ENGINE = CollapsingMergeTree(sign)
PARTITION BY toYYYYMM(lost_at)
ORDER BY (lost_at, deal_id, row_hash)

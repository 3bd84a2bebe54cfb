-- The newest verdict per lost deal. ReplacingMergeTree keyed by deal and versioned by
-- the deal's revision: re-classification, reviews and at-least-once delivery insert more
-- rows, and reads with FINAL see exactly one per deal. No PARTITION BY: a deal's rows must
-- share a partition to be merged, and lost_at may move when a deal is lost again.
CREATE TABLE IF NOT EXISTS refusals
(
    deal_id            String,
    version            UInt64,
    active             UInt8,
    status             LowCardinality(String),
    lost_at            DateTime64(3, 'UTC'),
    classified_at      DateTime64(3, 'UTC'),
    pipeline           LowCardinality(String),
    manager            LowCardinality(String),
    stage_before_loss  LowCardinality(String),
    amount_rub         Nullable(Int64),
    avg_check_rub      Int64,
    money_rub          Int64,
    target             UInt8,
    reason             LowCardinality(Nullable(String)),
    kind               LowCardinality(Nullable(String)),
    leak               LowCardinality(Nullable(String)),
    hot                UInt8,
    confidence         Float32,
    evidence           String,
    engine_name        LowCardinality(String),
    engine_version     LowCardinality(String),
    source             LowCardinality(String),
    ai_reason          LowCardinality(Nullable(String)),
    ai_kind            LowCardinality(Nullable(String)),
    ai_leak            LowCardinality(Nullable(String)),
    reviewer           Nullable(String),
    manager_reason     LowCardinality(Nullable(String)),
    reason_mismatch    Nullable(UInt8)
)
ENGINE = ReplacingMergeTree(version)
ORDER BY deal_id

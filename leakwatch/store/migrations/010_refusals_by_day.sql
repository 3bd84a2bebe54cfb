-- The cards' read table: the newest verdict per deal, stored under the day it was lost,
-- so a period reads only its own days (partition and primary-key pruning) instead of every
-- refusal ever stored. `refusals` (keyed by deal) stays the record of every version.
--
-- ReplacingMergeTree keyed by (day lost, deal): re-classification and re-delivery of a
-- deal on the same day replace its row (read with FINAL). A deal lost again on ANOTHER
-- day gets a row under the new day, and the writer (ClickHouseStore.insert_refusals)
-- also writes a tombstone (active = 0, the new version) under the old day, so the old row
-- is replaced there and never counted twice. The writer derives both from what `refusals`
-- already holds and writes this table before `refusals`, so a crash in between replays
-- into the very same rows.
CREATE TABLE IF NOT EXISTS refusals_by_day
(
    deal_id            String,
    version            UInt64,
    active             UInt8,
    status             LowCardinality(String),
    lost_at            DateTime64(3, 'UTC'),
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
    evidence           String,
    manager_reason     LowCardinality(Nullable(String)),
    reason_mismatch    Nullable(UInt8)
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(lost_at)
ORDER BY (toDate(lost_at), deal_id);

-- An installation that had refusals before this table: fill it once from their newest
-- versions (nothing to do when it already has rows or there are none).
INSERT INTO refusals_by_day
SELECT deal_id, version, active, status, lost_at, pipeline, manager, stage_before_loss, amount_rub,
       avg_check_rub, money_rub, target, reason, kind, leak, hot, evidence, manager_reason, reason_mismatch
FROM refusals FINAL
WHERE (SELECT count() FROM refusals_by_day) = 0

-- Won deals, for the average check of pipelines that have no configured one.
CREATE TABLE IF NOT EXISTS won_deals
(
    deal_id     String,
    version     UInt64,
    won_at      DateTime64(3, 'UTC'),
    pipeline    LowCardinality(String),
    manager     LowCardinality(String),
    amount_rub  Int64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY deal_id

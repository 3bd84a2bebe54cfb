-- leakwatch on a ClickHouse cluster: replicated storage per shard, Distributed tables on
-- top. Not run by the store's migrations (they apply leakwatch/store/migrations/*.sql only); run
-- once with clickhouse-client on any node of a cluster named 'leakwatch' (remote_servers)
-- whose nodes define the macros {shard} and {replica}.
--
-- Sharding key cityHash64(deal_id) everywhere: every version of a deal, and in
-- refusals_by_day its rows under every day and their tombstones, live on one shard, so
-- ReplacingMergeTree and FINAL (which work per shard) see all of them and a deal is
-- never counted twice. Aggregates over the Distributed table stay exact with the default
-- distributed_group_by_no_merge = 0.
--
-- The cards' aggregates (refusals_timeline, refusals_hourly) hold sums, so a row may live
-- on any shard: sum() over the Distributed table adds every shard's rows. The sink's
-- reconcile (ClickHouseStore.reconcile_aggregates) reads the truth from the Distributed
-- refusals_by_day FINAL (exact per shard, as above) and the stored sums from the
-- Distributed aggregate, and inserts the difference; run ONE sink per cluster.
--
-- The board's lists (salvageable_cases, review_queue: CollapsingMergeTree) are sharded by
-- deal too, so a case's +1 and -1 rows meet on one shard. Their reads exclude the rows
-- with an unmerged -1 by `row_hash NOT IN (SELECT ... FROM <the same table>)`: with
-- distributed_product_mode = 'local' (set it in the profile of the readers: Grafana's user
-- and the sink's) each shard answers that subquery from its own local table, which is exact
-- because both rows of a pair live there; each shard sends its top 500 and the initiator
-- merges them, so the list is the top 500 of the cluster.
--
-- The *_local tables mirror leakwatch/store/migrations/001_refusals.sql (with 003's column), 002_won_deals.sql,
-- 010_refusals_by_day.sql, 011_cards_aggregates.sql, 012_salvageable_cases.sql and
-- 013_review_queue.sql (same columns, same keys; tests/integration/test_cluster_ddl.py
-- compares them on the real engine). The cards' SQL names refusals_by_day,
-- refusals and won_deals: on the query nodes point the database of Grafana's datasource
-- and of the sink (CLICKHOUSE_URL) at a database where those names are the Distributed
-- tables below (here: database `leakwatch` holds the Distributed tables, `leakwatch_local`
-- the storage).

CREATE DATABASE IF NOT EXISTS leakwatch_local ON CLUSTER leakwatch;
CREATE DATABASE IF NOT EXISTS leakwatch ON CLUSTER leakwatch;

CREATE TABLE IF NOT EXISTS leakwatch_local.refusals ON CLUSTER leakwatch
(
    deal_id String, version UInt64, active UInt8, status LowCardinality(String),
    lost_at DateTime64(3, 'UTC'), classified_at DateTime64(3, 'UTC'),
    pipeline LowCardinality(String), manager LowCardinality(String), stage_before_loss LowCardinality(String),
    amount_rub Nullable(Int64), avg_check_rub Int64, money_rub Int64, target UInt8,
    reason LowCardinality(Nullable(String)), kind LowCardinality(Nullable(String)),
    leak LowCardinality(Nullable(String)), hot UInt8, confidence Float32, evidence String,
    engine_name LowCardinality(String), engine_version LowCardinality(String),
    fallback_from LowCardinality(Nullable(String)), source LowCardinality(String),
    ai_reason LowCardinality(Nullable(String)), ai_kind LowCardinality(Nullable(String)),
    ai_leak LowCardinality(Nullable(String)), reviewer Nullable(String),
    manager_reason LowCardinality(Nullable(String)), reason_mismatch Nullable(UInt8)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/leakwatch/refusals', '{replica}', version)
ORDER BY deal_id;

CREATE TABLE IF NOT EXISTS leakwatch_local.refusals_by_day ON CLUSTER leakwatch
(
    deal_id String, version UInt64, active UInt8, status LowCardinality(String),
    lost_at DateTime64(3, 'UTC'), pipeline LowCardinality(String), manager LowCardinality(String),
    stage_before_loss LowCardinality(String), amount_rub Nullable(Int64), avg_check_rub Int64,
    money_rub Int64, target UInt8, reason LowCardinality(Nullable(String)),
    kind LowCardinality(Nullable(String)), leak LowCardinality(Nullable(String)), hot UInt8,
    evidence String, manager_reason LowCardinality(Nullable(String)), reason_mismatch Nullable(UInt8)
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/leakwatch/refusals_by_day', '{replica}', version)
PARTITION BY toYYYYMM(lost_at)
ORDER BY (toDate(lost_at), deal_id);

CREATE TABLE IF NOT EXISTS leakwatch_local.refusals_timeline ON CLUSTER leakwatch
(
    lost_at DateTime64(3, 'UTC'), pipeline LowCardinality(String), manager LowCardinality(String),
    reason LowCardinality(Nullable(String)), kind LowCardinality(Nullable(String)),
    leak LowCardinality(Nullable(String)), stage_before_loss LowCardinality(String),
    refusals Int64, money_rub Int64, avg_check_rub Int64, hot Int64, stated Int64, mismatches Int64, confirmed Int64
)
ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/leakwatch/refusals_timeline', '{replica}')
PARTITION BY toYYYYMM(lost_at)
ORDER BY (lost_at, pipeline, manager, reason, kind, leak, stage_before_loss)
SETTINGS allow_nullable_key = 1;

CREATE TABLE IF NOT EXISTS leakwatch_local.refusals_hourly ON CLUSTER leakwatch
(
    hour DateTime('UTC'), pipeline LowCardinality(String), manager LowCardinality(String),
    reason LowCardinality(Nullable(String)), kind LowCardinality(Nullable(String)),
    leak LowCardinality(Nullable(String)), stage_before_loss LowCardinality(String),
    refusals Int64, money_rub Int64, avg_check_rub Int64, hot Int64, stated Int64, mismatches Int64, confirmed Int64
)
ENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/leakwatch/refusals_hourly', '{replica}')
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, pipeline, manager, reason, kind, leak, stage_before_loss)
SETTINGS allow_nullable_key = 1;

CREATE TABLE IF NOT EXISTS leakwatch_local.won_deals ON CLUSTER leakwatch
(
    deal_id String, version UInt64, won_at DateTime64(3, 'UTC'),
    pipeline LowCardinality(String), manager LowCardinality(String), amount_rub Int64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/leakwatch/won_deals', '{replica}', version)
ORDER BY deal_id;

CREATE TABLE IF NOT EXISTS leakwatch_local.salvageable_cases ON CLUSTER leakwatch
(
    lost_at DateTime64(3, 'UTC'), deal_id String, status LowCardinality(String),
    pipeline LowCardinality(String), manager LowCardinality(String), stage_before_loss LowCardinality(String),
    money_rub Int64, reason LowCardinality(Nullable(String)), leak LowCardinality(Nullable(String)),
    hot UInt8, evidence String, manager_reason LowCardinality(Nullable(String)), sign Int8,
    row_hash UInt64 MATERIALIZED sipHash64(toString(tuple(lost_at, deal_id, status, pipeline, manager,
        stage_before_loss, money_rub, reason, leak, hot, evidence, manager_reason)))
)
ENGINE = ReplicatedCollapsingMergeTree('/clickhouse/tables/{shard}/leakwatch/salvageable_cases', '{replica}', sign)
PARTITION BY toYYYYMM(lost_at)
ORDER BY (money_rub, lost_at, deal_id, row_hash);

CREATE TABLE IF NOT EXISTS leakwatch_local.review_queue ON CLUSTER leakwatch
(
    deal_id String, version UInt64, lost_at DateTime64(3, 'UTC'), pipeline LowCardinality(String),
    manager LowCardinality(String), stage_before_loss LowCardinality(String), money_rub Int64, target UInt8,
    reason LowCardinality(Nullable(String)), kind LowCardinality(Nullable(String)),
    leak LowCardinality(Nullable(String)), hot UInt8, confidence Float32, evidence String,
    engine_name LowCardinality(String), manager_reason LowCardinality(Nullable(String)),
    reason_mismatch Nullable(UInt8), sign Int8,
    row_hash UInt64 MATERIALIZED sipHash64(toString(tuple(deal_id, version, lost_at, pipeline, manager,
        stage_before_loss, money_rub, target, reason, kind, leak, hot, confidence, evidence,
        engine_name, manager_reason, reason_mismatch))),
    INDEX deal deal_id TYPE bloom_filter GRANULARITY 1,
    INDEX confidence confidence TYPE minmax GRANULARITY 1
)
ENGINE = ReplicatedCollapsingMergeTree('/clickhouse/tables/{shard}/leakwatch/review_queue', '{replica}', sign)
PARTITION BY toYYYYMM(lost_at)
ORDER BY (lost_at, deal_id, row_hash);

CREATE TABLE IF NOT EXISTS leakwatch.refusals ON CLUSTER leakwatch AS leakwatch_local.refusals
ENGINE = Distributed(leakwatch, leakwatch_local, refusals, cityHash64(deal_id));

CREATE TABLE IF NOT EXISTS leakwatch.refusals_by_day ON CLUSTER leakwatch AS leakwatch_local.refusals_by_day
ENGINE = Distributed(leakwatch, leakwatch_local, refusals_by_day, cityHash64(deal_id));

CREATE TABLE IF NOT EXISTS leakwatch.refusals_timeline ON CLUSTER leakwatch AS leakwatch_local.refusals_timeline
ENGINE = Distributed(leakwatch, leakwatch_local, refusals_timeline, toYYYYMM(lost_at));

CREATE TABLE IF NOT EXISTS leakwatch.refusals_hourly ON CLUSTER leakwatch AS leakwatch_local.refusals_hourly
ENGINE = Distributed(leakwatch, leakwatch_local, refusals_hourly, toYYYYMM(hour));

CREATE TABLE IF NOT EXISTS leakwatch.won_deals ON CLUSTER leakwatch AS leakwatch_local.won_deals
ENGINE = Distributed(leakwatch, leakwatch_local, won_deals, cityHash64(deal_id));

CREATE TABLE IF NOT EXISTS leakwatch.salvageable_cases ON CLUSTER leakwatch AS leakwatch_local.salvageable_cases
ENGINE = Distributed(leakwatch, leakwatch_local, salvageable_cases, cityHash64(deal_id));

CREATE TABLE IF NOT EXISTS leakwatch.review_queue ON CLUSTER leakwatch AS leakwatch_local.review_queue
ENGINE = Distributed(leakwatch, leakwatch_local, review_queue, cityHash64(deal_id));

-- Writers insert into the Distributed tables with insert_distributed_sync = 1, so an
-- insert returns (and the sink commits its Kafka offsets) only once the shard has it.
-- The writer's read of each deal's newest stored version (ClickHouseStore.stored_versions)
-- goes through leakwatch.refusals and so reaches the deal's shard.

-- A cluster named 'leakwatch' (remote_servers) with macros {shard} and {replica}.
-- Storage: replicated per shard; all versions of a deal on one shard (sharding key
-- cityHash64(deal_id)), so FINAL merges them exactly where they live.
CREATE TABLE IF NOT EXISTS refusals_local ON CLUSTER leakwatch AS refusals
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/leakwatch/refusals', '{replica}', version)
ORDER BY deal_id;

CREATE TABLE IF NOT EXISTS won_deals_local ON CLUSTER leakwatch AS won_deals
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/leakwatch/won_deals', '{replica}', version)
ORDER BY deal_id;

-- The cards read these (set LEAKWATCH/Grafana's database to where they live, or name them
-- refusals/won_deals on the query nodes). distributed_product_mode and FINAL per shard:
-- SET distributed_group_by_no_merge = 0 (default) keeps aggregates exact.
CREATE TABLE IF NOT EXISTS refusals_all ON CLUSTER leakwatch AS refusals_local
ENGINE = Distributed(leakwatch, currentDatabase(), refusals_local, cityHash64(deal_id));

CREATE TABLE IF NOT EXISTS won_deals_all ON CLUSTER leakwatch AS won_deals_local
ENGINE = Distributed(leakwatch, currentDatabase(), won_deals_local, cityHash64(deal_id));

-- Feeding: the Kafka tables of 010_kafka_engine.sql on every replica, one consumer group;
-- their materialized views write TO refusals_all / won_deals_all, which routes each row to
-- its deal's shard (insert_distributed_sync = 1 so the Kafka offset commits after the shard has it).

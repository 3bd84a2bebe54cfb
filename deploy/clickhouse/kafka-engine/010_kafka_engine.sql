-- refusals.classified (JSON, schemas/json/refusals.classified.v1.json) -> refusals.
-- kafka_handle_error_mode='stream' keeps a malformed message from stopping the consumer:
-- it lands in refusals_kafka_errors with its error instead (our dead-letter equivalent).
CREATE TABLE IF NOT EXISTS refusals_queue
(
    raw String
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092',
         kafka_topic_list = 'refusals.classified',
         kafka_group_name = 'leakwatch-clickhouse',
         kafka_format = 'JSONAsString',
         kafka_num_consumers = 1,
         kafka_handle_error_mode = 'stream';

CREATE MATERIALIZED VIEW IF NOT EXISTS refusals_from_kafka TO refusals AS
SELECT
    JSONExtractString(raw, 'deal_id')                                      AS deal_id,
    JSONExtractUInt(raw, 'version')                                        AS version,
    toUInt8(JSONExtractBool(raw, 'active'))                                AS active,
    JSONExtractString(raw, 'status')                                       AS status,
    parseDateTime64BestEffort(JSONExtractString(raw, 'lost_at'), 3, 'UTC')       AS lost_at,
    parseDateTime64BestEffort(JSONExtractString(raw, 'classified_at'), 3, 'UTC') AS classified_at,
    JSONExtractString(raw, 'pipeline')                                     AS pipeline,
    JSONExtractString(raw, 'manager')                                      AS manager,
    JSONExtractString(raw, 'stage_before_loss')                            AS stage_before_loss,
    JSONExtract(raw, 'amount_rub', 'Nullable(Int64)')                      AS amount_rub,
    JSONExtractInt(raw, 'avg_check_rub')                                   AS avg_check_rub,
    JSONExtractInt(raw, 'money_rub')                                       AS money_rub,
    toUInt8(JSONExtractBool(raw, 'target'))                                AS target,
    JSONExtract(raw, 'reason', 'Nullable(String)')                         AS reason,
    JSONExtract(raw, 'kind', 'Nullable(String)')                           AS kind,
    JSONExtract(raw, 'leak', 'Nullable(String)')                           AS leak,
    toUInt8(JSONExtractBool(raw, 'hot'))                                   AS hot,
    toFloat32(JSONExtractFloat(raw, 'confidence'))                         AS confidence,
    JSONExtractString(raw, 'evidence')                                     AS evidence,
    JSONExtractString(raw, 'engine', 'name')                               AS engine_name,
    JSONExtractString(raw, 'engine', 'version')                            AS engine_version,
    JSONExtract(raw, 'fallback_from', 'Nullable(String)')                  AS fallback_from,
    JSONExtractString(raw, 'source')                                       AS source,
    JSONExtract(raw, 'ai', 'reason', 'Nullable(String)')                   AS ai_reason,
    JSONExtract(raw, 'ai', 'kind', 'Nullable(String)')                     AS ai_kind,
    JSONExtract(raw, 'ai', 'leak', 'Nullable(String)')                     AS ai_leak,
    JSONExtract(raw, 'reviewer', 'Nullable(String)')                       AS reviewer,
    JSONExtract(raw, 'manager_reason', 'Nullable(String)')                 AS manager_reason,
    if(JSONType(raw, 'reason_mismatch') = 'Bool', toUInt8(JSONExtractBool(raw, 'reason_mismatch')), NULL)
                                                                           AS reason_mismatch
FROM refusals_queue
WHERE length(_error) = 0 AND JSONExtractUInt(raw, 'schema_version') = 1;

CREATE TABLE IF NOT EXISTS refusals_kafka_errors
(
    topic String, partition UInt64, offset UInt64, raw String, error String, received_at DateTime DEFAULT now()
)
ENGINE = MergeTree ORDER BY (topic, partition, offset);

CREATE MATERIALIZED VIEW IF NOT EXISTS refusals_kafka_errors_mv TO refusals_kafka_errors AS
SELECT _topic AS topic, _partition AS partition, _offset AS offset, _raw_message AS raw, _error AS error
FROM refusals_queue
WHERE length(_error) > 0;

-- leakwatch.won-deals (internal, JSON rows written by the worker) -> won_deals.
CREATE TABLE IF NOT EXISTS won_deals_queue
(
    deal_id String, version UInt64, won_at String, pipeline String, manager String, amount_rub Int64
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka:9092',
         kafka_topic_list = 'leakwatch.won-deals',
         kafka_group_name = 'leakwatch-clickhouse',
         kafka_format = 'JSONEachRow',
         kafka_skip_broken_messages = 100;

CREATE MATERIALIZED VIEW IF NOT EXISTS won_deals_from_kafka TO won_deals AS
SELECT deal_id, version, parseDateTime64BestEffort(won_at, 3, 'UTC') AS won_at, pipeline, manager, amount_rub
FROM won_deals_queue;

-- Which engine failed before the one in engine_name answered (the LLM -> embedded fallback).
ALTER TABLE refusals ADD COLUMN IF NOT EXISTS fallback_from LowCardinality(Nullable(String)) AFTER engine_version

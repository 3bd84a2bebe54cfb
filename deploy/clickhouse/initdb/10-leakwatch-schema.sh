#!/bin/bash
# Run by the clickhouse-server image on a fresh data volume (mounted into
# /docker-entrypoint-initdb.d/): applies leakwatch/store/migrations/*.sql (mounted at
# /leakwatch/clickhouse) to the leakwatch database
# ($CLICKHOUSE_DB). The image would run plain .sql files in the "default" database, hence
# this script. Every statement is idempotent; the worker applies the same files at start.
set -euo pipefail
for sql in /leakwatch/clickhouse/*.sql; do
    echo "leakwatch: applying $(basename "$sql") to ${CLICKHOUSE_DB}"
    clickhouse-client --host 127.0.0.1 --user "$CLICKHOUSE_USER" --password "$CLICKHOUSE_PASSWORD" \
        --database "$CLICKHOUSE_DB" --multiquery < "$sql"
done

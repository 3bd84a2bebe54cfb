"""The cluster layout (deploy/clickhouse/cluster/001_cluster.sql) mirrors the store's
migrations, on the real engine (chdb): its *_local tables, created here without the
cluster (Replicated* engines become their plain engines, ON CLUSTER dropped), have the
migrated tables' columns, types, defaults, keys, partitions and indexes; every migrated
table has one, and a Distributed table over it sharded by deal where it holds deals."""

from __future__ import annotations

import re
from pathlib import Path

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore

CLUSTER_SQL = Path(__file__).resolve().parents[2] / "deploy" / "clickhouse" / "cluster" / "001_cluster.sql"
LOCAL = "leakwatch_local"
# Tables with a deal_id: a deal's rows (versions, tombstones, ±1 pairs) on one shard.
BY_DEAL = {"refusals", "refusals_by_day", "won_deals", "salvageable_cases", "review_queue"}


def statements() -> list[str]:
    text = "\n".join(line for line in CLUSTER_SQL.read_text().splitlines() if not line.lstrip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]


def without_cluster(sql: str) -> str:
    sql = sql.replace(" ON CLUSTER leakwatch", "")
    # ReplicatedX('/path', '{replica}'[, args]) -> X(args)
    return re.sub(r"Replicated(\w+)\('[^']*', '[^']*'(?:, )?", r"\1(", sql)


def shape(store: ClickHouseStore, database: str) -> dict[str, dict]:
    def rows(sql: str) -> list[dict]:
        return store.query(sql, {"db": database})

    tables = {}
    for t in rows("SELECT name, engine, sorting_key, partition_key, primary_key FROM system.tables "
                  "WHERE database = {db:String} AND engine LIKE '%MergeTree'"):
        name = t.pop("name")
        t["columns"] = [tuple(c.values()) for c in store.query(
            "SELECT name, type, default_kind, default_expression FROM system.columns "
            "WHERE database = {db:String} AND table = {t:String} ORDER BY position", {"db": database, "t": name})]
        t["indexes"] = sorted(tuple(i.values()) for i in store.query(
            "SELECT name, type, expr, granularity FROM system.data_skipping_indices "
            "WHERE database = {db:String} AND table = {t:String}", {"db": database, "t": name}))
        tables[name] = t
    return tables


def test_the_cluster_s_local_tables_are_the_migrated_tables(tmp_path):
    settings = Settings(chdb_path=tmp_path / "chdb")
    store = ClickHouseStore.open(settings)  # runs the migrations
    try:
        local = [s for s in statements() if s.startswith(f"CREATE TABLE IF NOT EXISTS {LOCAL}.")]
        store.query(f"CREATE DATABASE IF NOT EXISTS {LOCAL}")
        for sql in local:
            store.query(without_cluster(sql))
        migrated, mirrored = shape(store, settings.clickhouse_database), shape(store, LOCAL)
    finally:
        store.close()
    assert sorted(mirrored) == sorted(migrated)
    for name, want in migrated.items():
        assert mirrored[name] == want, name


def test_every_local_table_has_a_distributed_one_sharded_by_deal_where_it_holds_deals():
    distributed = {}
    for sql in statements():
        m = re.match(r"CREATE TABLE IF NOT EXISTS leakwatch\.(\w+) ON CLUSTER leakwatch AS leakwatch_local\.(\w+)\s+"
                     r"ENGINE = Distributed\(leakwatch, leakwatch_local, (\w+), (.+)\)$", sql, re.S)
        if m:
            assert m.group(1) == m.group(2) == m.group(3), sql
            distributed[m.group(1)] = m.group(4)
    local = {re.match(rf"CREATE TABLE IF NOT EXISTS {LOCAL}\.(\w+)", s).group(1)
             for s in statements() if s.startswith(f"CREATE TABLE IF NOT EXISTS {LOCAL}.")}
    assert sorted(distributed) == sorted(local)
    for name in BY_DEAL:
        assert distributed[name] == "cityHash64(deal_id)", name

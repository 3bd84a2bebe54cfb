"""The ClickHouse edge: embedded chdb by default, a ClickHouse server over HTTP when
CLICKHOUSE_URL is set. The same DDL and SQL run on both.

Only one process may open a chdb data path, so the process that writes (the worker)
also answers the reads the boards need; calls are serialised with a lock because one
chdb session is shared across threads.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from datetime import date, datetime, timezone
from importlib import resources
from typing import Any

import clickhouse_connect

from leakwatch.settings import Settings
from schemas.events import ClassifiedRefusal

log = logging.getLogger(__name__)
# Package data, so a plain (non-editable) install finds them; ClickHouse's own init script
# (deploy/clickhouse/initdb) applies the same files to a server.
MIGRATIONS = resources.files("leakwatch.store") / "migrations"

REFUSAL_COLUMNS = (
    "deal_id", "version", "active", "status", "lost_at", "classified_at", "pipeline", "manager",
    "stage_before_loss", "amount_rub", "avg_check_rub", "money_rub", "target", "reason", "kind",
    "leak", "hot", "confidence", "evidence", "engine_name", "engine_version", "source",
    "ai_reason", "ai_kind", "ai_leak", "reviewer", "manager_reason", "reason_mismatch", "fallback_from",
)
WON_COLUMNS = ("deal_id", "version", "won_at", "pipeline", "manager", "amount_rub")
# The cards' read table (leakwatch/store/migrations/010_refusals_by_day.sql): what the cards' SQL reads.
BY_DAY_COLUMNS = (
    "deal_id", "version", "active", "status", "lost_at", "pipeline", "manager", "stage_before_loss",
    "amount_rub", "avg_check_rub", "money_rub", "target", "reason", "kind", "leak", "hot", "evidence",
    "manager_reason", "reason_mismatch",
)

# The cards' aggregates (migrations/011_cards_aggregates.sql), rebuilt per touched day:
# refusals_timeline from refusals_by_day FINAL, then refusals_hourly from refusals_timeline;
# and the salvageable cases list (012_salvageable_cases.sql) from refusals_by_day FINAL.
AGGREGATES = ("refusals_timeline", "refusals_hourly", "salvageable_cases", "review_queue")
_DIMENSIONS = "pipeline, manager, reason, kind, leak, stage_before_loss"
_SUMS = {  # column: its value over the newest verdicts in refusals_by_day
    "refusals": "count()", "money_rub": "sum(money_rub)", "avg_check_rub": "sum(avg_check_rub)",
    "hot": "countIf(hot = 1)", "stated": "countIf(reason_mismatch IS NOT NULL)",
    "mismatches": "countIf(reason_mismatch = 1)", "confirmed": "countIf(status = 'confirmed')",
}


def _reconcile_sql(table: str, at: str, truth: str) -> str:
    """Insert (truth - stored) into `table` for the chosen days: nothing when they agree,
    so a replay, or a re-run after a half-written insert, leaves the table exact. `truth`
    selects `at`, the dimensions and d_<sum> columns; __DAYS__(column) is filled in per call."""
    key = f"{at}, {_DIMENSIONS}"
    return f"""
INSERT INTO {table} ({key}, {', '.join(_SUMS)})
SELECT {key}, {', '.join(f'sum(d_{c}) AS {c}' for c in _SUMS)}
FROM (
    {truth}
    UNION ALL
    SELECT {key}, {', '.join(f'-sum({c}) AS d_{c}' for c in _SUMS)}
    FROM {table}
    WHERE __DAYS__({at})
    GROUP BY {key}
)
GROUP BY {key}
HAVING {' OR '.join(f'{c} != 0' for c in _SUMS)}
"""


_RECONCILE = (
    _reconcile_sql("refusals_timeline", "lost_at", f"""
    SELECT lost_at, {_DIMENSIONS}, {', '.join(f'toInt64({v}) AS d_{c}' for c, v in _SUMS.items())}
    FROM refusals_by_day FINAL
    WHERE __DAYS__(lost_at) AND active = 1 AND target = 1
    GROUP BY lost_at, {_DIMENSIONS}"""),
    _reconcile_sql("refusals_hourly", "hour", f"""
    SELECT toDateTime(toStartOfHour(lost_at), 'UTC') AS hour, {_DIMENSIONS},
           {', '.join(f'sum({c}) AS d_{c}' for c in _SUMS)}
    FROM refusals_timeline
    WHERE __DAYS__(lost_at)
    GROUP BY hour, {_DIMENSIONS}"""),
)


# The salvageable cases list (migrations/012_salvageable_cases.sql), reconciled per touched
# day right after the aggregates: +1 per case refusals_by_day FINAL lists and this table
# does not, -1 per case it holds that is gone; every column compared, so a changed case is
# one of each. |difference| rows, so the signs add up to the truth whatever was stored.
CASES_TABLE = "salvageable_cases"
CASES_COLUMNS = (
    "lost_at", "deal_id", "status", "pipeline", "manager", "stage_before_loss", "money_rub", "reason", "leak",
    "hot", "evidence", "manager_reason",
)


def _reconcile_sql(table: str, columns: tuple[str, ...], truth: str, own: str) -> str:
    """Insert into `table` (a CollapsingMergeTree) the ±1 rows that make its signs add up
    to `truth` (a query of `columns` plus `n = 1` per listed row) for the rows `own` selects."""
    cols = ", ".join(columns)
    return f"""
INSERT INTO {table} ({cols}, sign)
SELECT {cols}, if(d > 0, 1, -1) AS sign
FROM (
    SELECT {cols}, sum(n) AS d
    FROM (
        {truth}
        UNION ALL
        SELECT {cols}, -toInt64(sign) AS n
        FROM {table}
        WHERE {own}
    )
    GROUP BY {cols}
    HAVING d != 0
)
ARRAY JOIN range(toUInt64(abs(d))) AS copy
"""


_CASE_COLS = ", ".join(CASES_COLUMNS)
_RECONCILE_CASES = _reconcile_sql(
    CASES_TABLE, CASES_COLUMNS,
    f"""SELECT {_CASE_COLS}, toInt64(1) AS n
        FROM refusals_by_day FINAL
        WHERE __DAYS__(lost_at) AND active = 1 AND target = 1 AND kind = 'salvageable'""",
    "__DAYS__(lost_at)")


# The review queue (migrations/013_review_queue.sql), reconciled per deal from `refusals`
# FINAL (what the queue read before it), after a batch reaches `refusals`.
QUEUE_TABLE = "review_queue"
QUEUE_COLUMNS = (
    "deal_id", "version", "lost_at", "pipeline", "manager", "stage_before_loss", "money_rub", "target", "reason",
    "kind", "leak", "hot", "confidence", "evidence", "engine_name", "manager_reason", "reason_mismatch",
)
_QUEUE_COLS = ", ".join(QUEUE_COLUMNS)
_RECONCILE_QUEUE = _reconcile_sql(
    QUEUE_TABLE, QUEUE_COLUMNS,
    f"""SELECT {_QUEUE_COLS}, toInt64(1) AS n
        FROM (SELECT {_QUEUE_COLS}, active, status FROM refusals FINAL WHERE __DEALS__)
        WHERE active = 1 AND status = 'provisional'""",
    "__DEALS__")


def _utc(ts: datetime) -> datetime:
    """Naive UTC, as ClickHouse's DateTime64(3, 'UTC') columns take it; naive input is UTC already."""
    return ts if ts.tzinfo is None else ts.astimezone(timezone.utc).replace(tzinfo=None)


def refusal_row(r: ClassifiedRefusal) -> tuple:
    ai = r.ai
    return (
        r.deal_id, r.version, int(r.active), r.status, _utc(r.lost_at), _utc(r.classified_at),
        r.pipeline, r.manager, r.stage_before_loss, r.amount_rub, r.avg_check_rub, r.money_rub,
        int(r.target), r.reason, r.kind, r.leak, int(r.hot), r.confidence, r.evidence,
        r.engine.name, r.engine.version, r.source,
        ai.reason if ai else None, ai.kind if ai else None, ai.leak if ai else None,
        r.reviewer, r.manager_reason,
        None if r.reason_mismatch is None else int(r.reason_mismatch),
        r.fallback_from,
    )


def by_day_row(r: ClassifiedRefusal, *, lost_at: datetime | None = None) -> tuple:
    """The record's row in refusals_by_day; with `lost_at`, the tombstone that retires the
    deal's row under that (earlier) day."""
    tombstone = lost_at is not None
    return (
        r.deal_id, r.version, 0 if tombstone else int(r.active), r.status, _utc(lost_at if tombstone else r.lost_at),
        r.pipeline, r.manager, r.stage_before_loss, r.amount_rub, r.avg_check_rub, r.money_rub, int(r.target),
        r.reason, r.kind, r.leak, int(r.hot), r.evidence, r.manager_reason,
        None if r.reason_mismatch is None else int(r.reason_mismatch),
    )


def by_day_rows(records: Sequence[ClassifiedRefusal], stored: dict[str, tuple[int, datetime]]) -> list[tuple]:
    """refusals_by_day rows for a batch, given each deal's newest stored (version, lost_at).

    A record older than what is stored is left out (its row would come back to life under
    its day); a deal whose newest row moves to another day retires the old day's row with
    a tombstone of the new version. Pure, so a replay of the batch gives the same rows."""
    current = dict(stored)
    rows = []
    for r in sorted(records, key=lambda r: (r.deal_id, r.version)):
        previous = current.get(r.deal_id)
        if previous is not None and previous[0] > r.version:
            continue
        if previous is not None and _utc(previous[1]).date() != _utc(r.lost_at).date():
            rows.append(by_day_row(r, lost_at=previous[1]))
        rows.append(by_day_row(r))
        current[r.deal_id] = (r.version, r.lost_at)
    return rows


def touched_days(by_day: Sequence[tuple]) -> set[date]:
    """The UTC days whose refusals_by_day rows a batch wrote (its tombstones' days too)."""
    at = BY_DAY_COLUMNS.index("lost_at")
    return {row[at].date() for row in by_day}


def migration_statements() -> list[str]:
    statements = []
    for path in sorted((p for p in MIGRATIONS.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name):
        text = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.strip().startswith("--"))
        statements += [s.strip() for s in text.split(";") if s.strip()]
    return statements


class ClickHouseStore:
    def __init__(self, client: Any, database: str, kind: str):
        self._client = client
        self.database = database
        self.kind = kind  # "chdb" or "http", for logs and metrics
        self._lock = threading.Lock()

    @classmethod
    def open(cls, settings: Settings) -> "ClickHouseStore":
        db = settings.clickhouse_database
        if settings.clickhouse_url:
            client = clickhouse_connect.get_client(
                dsn=settings.clickhouse_url, username=settings.clickhouse_user,
                password=settings.clickhouse_password.get_secret_value())
            kind = "http"
        else:
            settings.chdb_path.mkdir(parents=True, exist_ok=True)
            client = clickhouse_connect.get_client(interface="chdb", path=str(settings.chdb_path))
            kind = "chdb"
        client.command(f"CREATE DATABASE IF NOT EXISTS `{db}`")
        client.database = db  # unqualified table names (the cards' SQL) resolve here
        store = cls(client, db, kind)
        store.migrate()
        log.info("clickhouse store ready (%s, database %s)", kind, db)
        return store

    def migrate(self) -> None:
        with self._lock:
            for statement in migration_statements():
                self._client.command(statement)
        # Days stored before the aggregate existed, or whose first build was cut short (an
        # insert lands whole per month partition): build them now; nothing to do usually.
        missing = self.query(
            "SELECT DISTINCT toDate(lost_at) AS day FROM refusals_by_day WHERE active = 1 AND target = 1 "
            "AND toDate(lost_at) NOT IN (SELECT DISTINCT toDate(hour) FROM refusals_hourly)")
        if missing:
            self.reconcile_aggregates({r["day"] for r in missing})
        missing = self.query(  # the same for the salvageable cases list (added later: its own check)
            f"SELECT DISTINCT toDate(lost_at) AS day FROM refusals_by_day WHERE active = 1 AND target = 1 "
            f"AND kind = 'salvageable' AND toDate(lost_at) NOT IN (SELECT DISTINCT toDate(lost_at) FROM {CASES_TABLE})")
        if missing:
            self.reconcile_aggregates({r["day"] for r in missing}, statements=(_RECONCILE_CASES,))
        # The review queue, added later still: built once when it is empty and there are refusals.
        if self.query(f"SELECT (SELECT count() FROM {QUEUE_TABLE}) = 0 AND (SELECT count() FROM refusals) > 0 AS empty")[0]["empty"]:
            self.reconcile_queue(None)

    def insert_refusals(self, records: Sequence[ClassifiedRefusal]) -> None:
        """The cards' read table first, then `refusals`: the read table's rows are derived
        from what `refusals` holds, so a crash in between replays into the same rows."""
        if records:
            stored = self.stored_versions({r.deal_id for r in records})
            by_day = by_day_rows(records, stored)
            self._insert("refusals_by_day", by_day, BY_DAY_COLUMNS)
            self.reconcile_aggregates(touched_days(by_day))
            self._insert("refusals", [refusal_row(r) for r in records], REFUSAL_COLUMNS)
            self.reconcile_queue({r.deal_id for r in records})

    def reconcile_queue(self, deal_ids: set[str] | None) -> None:
        """Make the review queue agree with `refusals` FINAL for these deals (None: all)."""
        if deal_ids is not None and not deal_ids:
            return
        with self._lock:
            self._client.command(
                _RECONCILE_QUEUE.replace("__DEALS__", "1 = 1" if deal_ids is None else "deal_id IN {ids:Array(String)}"),
                parameters=None if deal_ids is None else {"ids": sorted(deal_ids)})

    def reconcile_aggregates(self, days: set[date] | None, statements: Sequence[str] | None = None) -> None:
        """Make the cards' aggregates and the cases list agree with refusals_by_day on these
        UTC days (None: all). Called before `refusals` is written, so a replay after a crash
        touches the same days. `statements`: only these of the reconciling statements."""
        if days is not None and not days:
            return
        started = time.perf_counter()
        with self._lock:
            for sql in statements or (*_RECONCILE, _RECONCILE_CASES):
                chosen = r"1 = 1" if days is None else r"toDate(\1) IN {days:Array(Date)}"
                self._client.command(re.sub(r"__DAYS__\((\w+)\)", chosen, sql),
                                     parameters=None if days is None else {"days": sorted(days)})
        log.debug("reconciled the cards' aggregates on %s days in %.3fs", "all" if days is None else len(days),
                  time.perf_counter() - started)

    def rebuild_aggregates(self) -> None:
        """Reconcile every day and deal (after a bulk load that bypassed insert_refusals)."""
        self.reconcile_aggregates(None)
        self.reconcile_queue(None)

    def stored_versions(self, deal_ids: set[str]) -> dict[str, tuple[int, datetime]]:
        """Each deal's newest stored (version, lost_at); a primary-key lookup in `refusals`."""
        rows = self.query(
            "SELECT deal_id, max(version) AS newest, argMax(lost_at, version) AS newest_lost_at FROM refusals "
            "WHERE deal_id IN {ids:Array(String)} GROUP BY deal_id", {"ids": sorted(deal_ids)})
        return {r["deal_id"]: (int(r["newest"]), r["newest_lost_at"]) for r in rows}

    def insert_won(self, rows: Sequence[tuple]) -> None:
        if rows:
            self._insert("won_deals", [(*r[:2], _utc(r[2]), *r[3:]) for r in rows], WON_COLUMNS)

    def _insert(self, table: str, rows: Sequence[tuple], columns: Sequence[str]) -> None:
        started = time.perf_counter()
        with self._lock:
            self._client.insert(table, list(rows), column_names=list(columns))
        log.debug("inserted %d rows into %s in %.3fs", len(rows), table, time.perf_counter() - started)

    def query(self, sql: str, parameters: dict | None = None) -> list[dict]:
        """Rows as dicts. SQL names tables unqualified; the store's database is the default."""
        with self._lock:
            result = self._client.query(sql, parameters=parameters or {})
        return [dict(zip(result.column_names, row)) for row in result.result_rows]

    def won_mean(self, pipeline: str, since: datetime) -> float | None:
        rows = self.query(
            "SELECT avg(amount_rub) AS mean FROM won_deals FINAL "
            "WHERE pipeline = {p:String} AND won_at >= {since:DateTime64(3)} AND amount_rub > 0",
            {"p": pipeline, "since": _utc(since)})
        mean = rows[0]["mean"] if rows else None
        return None if mean is None or mean != mean else float(mean)  # NaN when no rows

    def won_means(self, since: datetime) -> dict[str, float]:
        """Every pipeline's mean won amount since `since` (the worker asks the sink for these)."""
        rows = self.query(
            "SELECT pipeline, avg(amount_rub) AS mean FROM won_deals FINAL "
            "WHERE won_at >= {since:DateTime64(3)} AND amount_rub > 0 GROUP BY pipeline",
            {"since": _utc(since)})
        return {r["pipeline"]: float(r["mean"]) for r in rows if r["mean"] == r["mean"]}

    def close(self) -> None:
        with self._lock:
            self._client.close()

"""Panel and alert query timings on N refusals, on the real ClickHouse engine (chdb).

Fills `refusals` with N synthetic rows spread over 90 days (plus 10% superseded
versions, so FINAL has work to do) and the cards' read table `refusals_by_day` with the
same rows (every version, as before background merges), then runs EVERY panel's and
alert rule's SQL taken from the provisioned files, and the web board's own reads (the
review queue and the filters' options, from leakwatch/cards/queries.py), expanded as the
Grafana plugin does,
for a 1-day and a 30-day period, and prints the median of 5 runs. `--before REF` also
runs every query as the provisioned files of git REF (e.g. `main`) have it, on the same
data in the same run. `--path DIR` keeps the filled store for the next run (a store that
already holds the rows is reused, not refilled).
Run: .venv/bin/python benchmarks/cards_queries.py [--rows 10000000] [--before main] [--path DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from leakwatch.cards.macros import ALL, expand  # noqa: E402
from leakwatch.settings import Settings  # noqa: E402
from leakwatch.store.clickhouse import AGGREGATES, BY_DAY_COLUMNS, ClickHouseStore  # noqa: E402

END = datetime(2026, 11, 20, tzinfo=timezone.utc)

FILL = """
INSERT INTO refusals
SELECT
    concat('D-', toString(number % {deals})) AS deal_id,
    1 + intDiv(number, {deals}) AS version,
    1, 'provisional',
    toDateTime64({end}, 3, 'UTC') - toIntervalSecond(cityHash64(number % {deals}) % (90 * 86400)) AS lost_at,
    lost_at,
    ['Основная', 'Корпоративные', 'Партнёры'][1 + number % 3],
    concat('Менеджер ', toString(number % 40)),
    ['Новая заявка', 'Квалификация', 'Переговоры', 'КП отправлено', 'Выставлен счёт'][1 + number % 5],
    if(number % 4 = 0, NULL, 10000 + number % 90000), 40000,
    if(number % 4 = 0, 40000, 10000 + number % 90000),
    if(number % 20 = 0, 0, 1),
    ['Дорого', 'Выбрал конкурента', 'Нет доверия', 'Не подошли условия', 'Не понял ценность',
     'Поздно связались', 'Клиент пропал'][1 + number % 7],
    if(number % 5 < 2, 'salvageable', 'real'),
    if(number % 5 < 2, ['Не дожали заинтересованных', 'Не отработали возражение',
                         'Не отправили материалы после звонка', 'Не связались вовремя'][1 + number % 4], NULL),
    number % 3 = 0, if(number % 7 = 0, 0.4, 0.8), 'цитата', 'embedded', '1', NULL, 'ai', NULL, NULL, NULL, NULL, NULL, 0
FROM numbers({rows})
"""


def _read(path: Path, ref: str | None) -> str:
    if ref is None:
        return path.read_text()
    return subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:{path.relative_to(ROOT)}"],
                          check=True, capture_output=True, text=True).stdout


def panel_queries(ref: str | None = None) -> dict[str, str]:
    board = json.loads(_read(ROOT / "grafana" / "dashboards" / "leakwatch.json", ref))
    out = {}
    for panel in board["panels"]:
        for t in panel.get("targets", []):
            if t.get("rawSql"):
                out[f"panel: {panel['title']}"] = t["rawSql"]
    for path in (ROOT / "grafana" / "provisioning" / "alerting").glob("*.yaml"):
        doc = yaml.safe_load(_read(path, ref))
        for group in doc.get("groups", []):
            for rule in group["rules"]:
                for d in rule["data"]:
                    sql = d.get("model", {}).get("rawSql")
                    if sql:
                        out[f"alert: {rule['title']}"] = sql
    out.update(board_queries(ref))
    return out


def board_queries(ref: str | None = None) -> dict[str, str]:
    """The web board's own reads (leakwatch/web, services/sink/board.py) that are not panels:
    the review queue and the filters' options, as leakwatch/cards/queries.py of REF has them."""
    module: dict = {}
    exec(compile(_read(ROOT / "leakwatch" / "cards" / "queries.py", ref), "queries.py", "exec"), module)
    out = {f"board: {name.replace('_', ' ')}": sql for name, sql in module.get("BOARD", {}).items()}
    out.update({f"board: {name} options": sql for name, sql in module.get("VARIABLES", {}).items()})
    return out


PERIODS = {  # as Grafana sends them: whole seconds, `to` at the period's last second
    "1 day": (END - timedelta(days=1), END - timedelta(seconds=1)),
    "30 days": (END - timedelta(days=30), END - timedelta(seconds=1)),
    "24 h, not on the hour": (END - timedelta(days=1, seconds=1234), END - timedelta(seconds=1234)),
}


def fill(store: ClickHouseStore, rows: int) -> None:
    deals = int(rows / 1.1)
    # Merges drop superseded versions: a filled store holds between `deals` and `rows` rows.
    if deals <= store.query("SELECT count() AS n FROM refusals")[0]["n"] <= rows:
        print(f"reusing the store's {rows:,} rows")
        if any(store.query(f"SELECT count() AS n FROM {t}")[0]["n"] == 0 for t in AGGREGATES):
            started = time.perf_counter()
            store.rebuild_aggregates()
            print(f"built the cards' aggregate in {time.perf_counter() - started:.1f}s", flush=True)
        return
    started = time.perf_counter()
    for table in ("refusals", "refusals_by_day", *AGGREGATES):
        store.query(f"TRUNCATE TABLE {table}")
    store.query(FILL.format(rows=rows, deals=deals, end=int(END.timestamp())))
    store.query(f"INSERT INTO refusals_by_day SELECT {', '.join(BY_DAY_COLUMNS)} FROM refusals")
    print(f"filled {rows:,} rows ({deals:,} deals) in {time.perf_counter() - started:.1f}s", flush=True)
    started = time.perf_counter()
    store.rebuild_aggregates()
    print(f"built the cards' aggregate in {time.perf_counter() - started:.1f}s", flush=True)


def time_query(store: ClickHouseStore, sql: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        store.query(sql)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", metavar="REF", help="also time the queries as git REF has them (e.g. main)")
    parser.add_argument("--path", type=Path, help="chdb data path to keep and reuse (default: a fresh temp dir)")
    args = parser.parse_args()
    path = args.path or Path(tempfile.mkdtemp(prefix="lw-cards-"))
    store = ClickHouseStore.open(Settings(chdb_path=path))
    fill(store, args.rows)
    variables = {"pipeline": ALL, "manager": ALL, "metric": "sum", "baseline_days": "28",
                 "low_confidence": "0.6", "timezone": "Europe/Moscow"}  # the board's defaults
    sets = {"now": panel_queries()}
    if args.before:
        sets[args.before] = panel_queries(args.before)
    names = list(sets["now"]) + [n for n in sets.get(args.before, {}) if n not in sets["now"]]
    print(f"{'median ms of ' + str(args.runs):42}" + "".join(
        f" | {label[:22]:>22}" for label in sets for _ in [0]) + "   (periods: " + ", ".join(PERIODS) + ")")
    worst = 0.0
    results = {}
    for name in names:
        cells = []
        for label, queries in sets.items():
            sql = queries.get(name)
            for time_from, time_to in PERIODS.values():
                if sql is None:
                    cells.append(None)
                    continue
                expanded = expand(sql, time_from=time_from, time_to=time_to, variables=variables)
                cells.append(time_query(store, expanded, args.runs))
                if label == "now":
                    worst = max(worst, cells[-1])
        results[name] = cells
        print(f"{name[:42]:42}" + "".join(
            (" |" if i % len(PERIODS) == 0 else "") + (f" {c * 1000:6.0f}" if c is not None else "      -")
            for i, c in enumerate(cells)), flush=True)
    print(f"slowest query now: {worst * 1000:.0f}ms")
    # What the sink adds per batch: reconciling the aggregates on the day a batch touched.
    day = (END - timedelta(days=1)).date()
    reconcile_s = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        store.reconcile_aggregates({day})
        reconcile_s.append(time.perf_counter() - t0)
    print(f"reconcile of one day ({args.rows // 90:,} refusals a day): {statistics.median(reconcile_s) * 1000:.0f}ms")
    print(json.dumps({"rows": args.rows, "reconcile_one_day_ms": round(statistics.median(reconcile_s) * 1000, 1), "periods": list(PERIODS), "sets": list(sets),
                      "median_ms": {n: [None if c is None else round(c * 1000, 1) for c in cells]
                                    for n, cells in results.items()}}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Panel and alert query timings on N refusals, on the real ClickHouse engine (chdb).

Fills `refusals` with N synthetic rows spread over 90 days (plus 10% superseded
versions, so FINAL has work to do) and the cards' read table `refusals_by_day` with the
same rows (every version, as before background merges), then runs EVERY panel's and
alert rule's SQL taken from the provisioned files, expanded as the Grafana plugin does,
for a 1-day and a 30-day period, and prints the median of 5 runs. `--before` also runs
each query against `refusals` (keyed by deal only), as the cards read it before.
Run: .venv/bin/python benchmarks/cards_queries.py [--rows 10000000] [--before]
"""

from __future__ import annotations

import argparse
import json
import statistics
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
from leakwatch.store.clickhouse import BY_DAY_COLUMNS, ClickHouseStore  # noqa: E402

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
    number % 3 = 0, 0.8, 'цитата', 'embedded', '1', 'ai', NULL, NULL, NULL, NULL, NULL, 0
FROM numbers({rows})
"""


def panel_queries() -> dict[str, str]:
    board = json.loads((ROOT / "grafana" / "dashboards" / "leakwatch.json").read_text())
    out = {}
    for panel in board["panels"]:
        for t in panel.get("targets", []):
            if t.get("rawSql"):
                out[f"panel: {panel['title']}"] = t["rawSql"]
    for path in (ROOT / "grafana" / "provisioning" / "alerting").glob("*.yaml"):
        doc = yaml.safe_load(path.read_text())
        for group in doc.get("groups", []):
            for rule in group["rules"]:
                for d in rule["data"]:
                    sql = d.get("model", {}).get("rawSql")
                    if sql:
                        out[f"alert: {rule['title']}"] = sql
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--before", action="store_true", help="also time the queries on `refusals`")
    args = parser.parse_args()
    store = ClickHouseStore.open(Settings(chdb_path=Path(tempfile.mkdtemp(prefix="lw-cards-"))))
    deals = int(args.rows / 1.1)
    started = time.perf_counter()
    store.query(FILL.format(rows=args.rows, deals=deals, end=int(END.timestamp())))
    store.query(f"INSERT INTO refusals_by_day SELECT {', '.join(BY_DAY_COLUMNS)} FROM refusals")
    print(f"filled {args.rows:,} rows ({deals:,} deals) in {time.perf_counter() - started:.1f}s")
    variables = {"pipeline": ALL, "manager": ALL, "metric": "sum", "baseline_days": "28"}
    tables = ("refusals_by_day", "refusals") if args.before else ("refusals_by_day",)
    header = "".join(f" {'1 day':>9} {'30 days':>9}" for _ in tables)
    print(f"{'query':50}{header}   ({' | '.join(tables)})")
    worst = 0.0
    for name, sql in panel_queries().items():
        cells = []
        for table in tables:
            for days in (1, 30):
                expanded = expand(sql, time_from=END - timedelta(days=days), time_to=END, variables=variables)
                expanded = expanded.replace("refusals_by_day", table)
                runs = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    store.query(expanded)
                    runs.append(time.perf_counter() - t0)
                cells.append(statistics.median(runs))
                if table == tables[0]:
                    worst = max(worst, cells[-1])
        print(f"{name[:50]:50}" + "".join(f" {c * 1000:7.0f}ms" for c in cells), flush=True)
    print(f"slowest query on refusals_by_day: {worst * 1000:.0f}ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

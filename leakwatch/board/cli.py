"""`leakwatch board`: both cards live in the terminal."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("board", help="draw both cards live in the terminal")
    p.add_argument("--url", default=None, help="the worker's HTTP address (default http://127.0.0.1:<port>)")
    p.add_argument("--from", dest="start", help="period start (ISO 8601; default: today)")
    p.add_argument("--to", dest="end", help="period end (ISO 8601)")
    p.add_argument("--pipeline")
    p.add_argument("--manager")
    p.add_argument("--metric", choices=("sum", "count"), default="sum", help="leak bars: Сумма / Количество")
    p.add_argument("--refresh", type=float, default=2.0, help="seconds between refreshes")
    p.add_argument("--once", action="store_true", help="draw once and exit")
    p.set_defaults(func=run)


def run(args) -> int:
    import httpx
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    from leakwatch.board.render import BOARD_WIDTH, board
    from leakwatch.board.source import ClickHouseSource, WorkerSource
    from leakwatch.cards.period import requested_period
    from leakwatch.settings import load_settings

    settings = load_settings()

    def period():
        return requested_period(args.start, args.end, settings.tz, datetime.now(timezone.utc))

    try:
        period()
    except ValueError as exc:  # what the worker answers with a 400 for the same input
        print(f"leakwatch board: --from/--to: {exc}", file=sys.stderr)
        return 2
    if settings.clickhouse_url and not args.url:
        source = ClickHouseSource(settings)
    else:
        source = WorkerSource(args.url or f"http://{settings.worker_web_host}:{settings.worker_web_port}")

    def frame():
        try:
            return board(source.cards(*period(), args.pipeline, args.manager), args.metric)
        except (httpx.HTTPError, OSError) as exc:
            return Text(f"нет данных от воркера: {exc}", style="red")

    console = Console()
    if args.once:
        if not console.is_terminal:  # piped or logged: rich would assume 80 columns and cut the labels
            console = Console(width=max(console.width, BOARD_WIDTH))
        console.print(frame())
        return 0
    try:
        with Live(frame(), console=console, refresh_per_second=4, screen=sys.stdout.isatty()) as live:
            while True:
                time.sleep(args.refresh)
                live.update(frame())
    except KeyboardInterrupt:
        return 0

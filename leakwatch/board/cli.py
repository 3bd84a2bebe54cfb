"""`leakwatch board`: both cards live in the terminal."""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone


def register(sub) -> None:
    p = sub.add_parser("board", help="draw both cards live in the terminal")
    p.add_argument("--url", default=None, help="the sink's HTTP address (default LEAKWATCH_SINK_URL, http://127.0.0.1:6067)")
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
    from leakwatch.board.source import ClickHouseSource, SinkSource
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
        source = SinkSource(args.url or settings.sink_url,
                            settings.web_token.get_secret_value() if settings.web_token else None)

    def read():
        try:
            return board(source.cards(*period(), args.pipeline, args.manager), args.metric), None
        except httpx.HTTPStatusError as exc:
            why = exc.response.status_code
            hint = " (set LEAKWATCH_WEB_TOKEN: it listens beyond loopback)" if why == 401 else ""
            return None, f"{source.where} answered HTTP {why}{hint}"
        except (httpx.HTTPError, OSError) as exc:
            return None, (f"no answer from {source.where} (--url or LEAKWATCH_SINK_URL; "
                          f"is `leakwatch sink` running?): {exc}")

    def frame():
        shown, problem = read()
        return shown if problem is None else Text(problem, style="red")

    console = Console()
    if args.once:
        shown, problem = read()
        if problem is not None:
            print(f"leakwatch board: {problem}", file=sys.stderr)
            return 1
        if not console.is_terminal:  # piped or logged: rich would assume 80 columns and cut the labels
            console = Console(width=max(console.width, BOARD_WIDTH))
        console.print(shown)
        return 0
    try:
        with Live(frame(), console=console, refresh_per_second=4, screen=sys.stdout.isatty()) as live:
            while True:
                time.sleep(args.refresh)
                live.update(frame())
    except KeyboardInterrupt:
        return 0

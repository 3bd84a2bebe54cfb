"""The sink's HTTP side (127.0.0.1 by default): the cards' numbers for the boards, won
deals' means for the workers, Prometheus metrics and health, and the web board mounted at
"/" behind them. The sink owns the embedded ClickHouse, so every read goes through it;
store calls run in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone, tzinfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from leakwatch.cards.period import parse_instant, requested_period
from leakwatch.cards.snapshot import period_sql, read_cards
from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from leakwatch.web.auth import reviewer_from


def case_json(row: dict, tz: tzinfo) -> dict:
    """A /cases row with its times in the department's zone, as /cards gives its period
    (ClickHouse hands back UTC columns as naive datetimes)."""
    return {k: (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(tz).isoformat()
            if isinstance(v, datetime) else v for k, v in row.items()}


def create_app(settings: Settings, store: ClickHouseStore, health: Callable[[], dict], *,
               on_shutdown: Callable[[], None] = lambda: None, board: FastAPI | None = None,
               reads_open: bool = True) -> FastAPI:
    """`board` (leakwatch/web) is mounted at "/" after the sink's own routes, so its links
    need no prefix; the sink's /health answers for both. `reads_open=False` (a sink bound
    beyond loopback: pass `is_loopback(host)`) asks for LEAKWATCH_WEB_TOKEN on /cards, /cases
    and /won-means, as the web board does on its pages; /health and /metrics stay open for
    health checks and Prometheus (they carry no client's data)."""
    token = settings.web_token.get_secret_value() if settings.web_token else None

    def closed(request: Request) -> JSONResponse | None:
        if reads_open or reviewer_from({k.lower(): v for k, v in request.headers.items()},
                                       dict(request.cookies), token) is not None:
            return None
        return JSONResponse({"error": "this sink listens beyond loopback: send LEAKWATCH_WEB_TOKEN as a Bearer token"},
                            status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        await asyncio.to_thread(on_shutdown)  # the batch in hand is stored and committed first

    app = FastAPI(title="leakwatch sink", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    async def filtered(request: Request, answer):
        """A board endpoint: period (`from`, `to`; today by default), `pipeline`, `manager`."""
        if refused := closed(request):
            return refused
        q = request.query_params
        try:
            start, end = requested_period(q.get("from"), q.get("to"), settings.tz, datetime.now(timezone.utc))
            if end <= start:
                raise ValueError("'to' must be after 'from'")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(await asyncio.to_thread(answer, start, end, q.get("pipeline") or None,
                                                    q.get("manager") or None))

    def cards(start, end, pipeline, manager):
        return read_cards(store, start, end, pipeline=pipeline, manager=manager,
                          baseline_days=settings.baseline_days).model_dump(mode="json")

    def cases(start, end, pipeline, manager):
        rows = store.query(period_sql("salvageable_cases", start, end, pipeline=pipeline, manager=manager))
        return [case_json(r, settings.tz) for r in rows]

    @app.get("/cards")
    async def cards_view(request: Request):
        return await filtered(request, cards)

    @app.get("/cases")
    async def cases_view(request: Request):
        return await filtered(request, cases)

    @app.get("/won-means")
    async def won_means(request: Request):
        """Mean won amount per pipeline since `since` (the workers' average check)."""
        if refused := closed(request):
            return refused
        try:
            since = parse_instant(request.query_params["since"], settings.tz)
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": f"'since' must be a date or an instant ({exc})"}, status_code=400)
        return JSONResponse(await asyncio.to_thread(store.won_means, since))

    @app.get("/metrics")
    async def metrics():
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health")
    async def health_view():
        return JSONResponse({**health(), "store": store.kind})

    if board is not None:
        app.mount("/", board)  # last: every path the sink does not answer itself
    return app

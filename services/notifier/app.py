"""The notifier's HTTP side: /health, and POST /grafana so a Grafana contact point of type
"webhook" can point here (URL http://<host>:8089/grafana, Authorization: Bearer <token>).
Grafana gets 202 at once; posting (with its retries) runs on a worker thread."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from leakwatch.settings import Settings
from schemas.decoding import payload_text
from schemas.events import DeadLetter
from services.ingest.auth import presented, token_ok
from services.notifier import grafana
from services.notifier.dead_letters import DeadLetterWriter
from services.notifier.delivery import Dispatcher
from services.notifier.notification import Notification
from services.kafka_out import DeliveryFailed

log = logging.getLogger("leakwatch.notifier")

MAX_BODY_BYTES = 1024 * 1024


def create_app(settings: Settings, dispatcher: Dispatcher, dead_letters: DeadLetterWriter, *,
               consumer_alive: Callable[[], bool] = lambda: True,
               on_shutdown: Callable[[], None] = lambda: None) -> FastAPI:
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="grafana-post")

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        # Here, not after uvicorn.run: uvicorn re-raises SIGTERM once the app has stopped.
        await asyncio.to_thread(pool.shutdown, wait=True)  # posts already accepted finish first
        await asyncio.to_thread(on_shutdown)

    app = FastAPI(title="leakwatch notifier", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)

    @app.get("/health")
    async def health() -> JSONResponse:
        alive = consumer_alive()
        return JSONResponse({"status": "ok" if alive else "consumer stopped",
                             "targets": [t.name for t in dispatcher.targets]}, status_code=200 if alive else 503)

    @app.post("/grafana")
    async def grafana_hook(request: Request) -> JSONResponse:
        if not token_ok(settings.notifier_grafana_token, presented(request.headers, request.query_params)):
            return JSONResponse({"error": "wrong or missing token (LEAKWATCH_NOTIFIER_GRAFANA_TOKEN)"}, status_code=401)
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return JSONResponse({"error": f"body larger than {MAX_BODY_BYTES} bytes"}, status_code=413)
        try:
            n = grafana.notification(orjson.loads(raw), raw)
        except (orjson.JSONDecodeError, ValueError) as exc:
            letter = DeadLetter(topic=grafana.ORIGIN, partition=None, offset=None, key=None,
                                error=f"notifier grafana: {exc}", payload=payload_text(raw),
                                received_at=datetime.now(timezone.utc))
            try:
                await asyncio.to_thread(dead_letters.write, letter)
            except DeliveryFailed:
                return JSONResponse({"error": "Kafka did not confirm the dead letter; retry"}, status_code=503)
            return JSONResponse({"error": str(exc), "dead_letter": True}, status_code=422)
        pool.submit(_deliver, dispatcher, n)
        return JSONResponse({"key": n.key, "targets": [t.name for t in dispatcher.targets]}, status_code=202)

    return app


def _deliver(dispatcher: Dispatcher, n: Notification) -> None:
    try:
        outcome = dispatcher.deliver(n)
        log.info("grafana %s: %s", n.key, ", ".join(f"{t} {o}" for t, o in outcome.items()) or "no targets")
    except Exception:  # the dead letter failed too; Grafana re-sends on its repeat interval
        log.exception("grafana %s: not settled", n.key)

"""The HTTP side of the gateway: secrets, body parsing, Kafka, dead letters.

Every post ends one of three ways, so nothing is lost: 202 once Kafka has acknowledged its
events; 422 once its raw body is on `deadletter` with the reason; or 401/5xx with nothing
stored, and the sender retries (event ids are deterministic, so a retry never doubles).
Logs name sources, event ids and deal ids only: bodies hold transcripts and phone numbers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, SecretStr, ValidationError

from leakwatch.settings import Settings
from schemas.decoding import describe
from schemas.topics import CALLS, DEALS, TopicSpec
from services.ingest import amocrm, bitrix24, telephony
from services.ingest.auth import presented, token_ok
from services.ingest.bitrix24_rest import Bitrix24Deals, DealFetchFailed
from services.ingest.canonical import TOPICS, canonical_events
from services.ingest.errors import MappingError
from services.ingest.forms import parse_body
from services.ingest.publisher import Publisher
from services.ingest.vendor_maps import VendorMaps
from services.kafka_out import DeliveryFailed

log = logging.getLogger("leakwatch.ingest")

MAX_BODY_BYTES = 5 * 1024 * 1024  # a long call's transcript fits many times over
Mapper = Callable[[object, VendorMaps, datetime], list[BaseModel]]


def _error(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def create_app(settings: Settings, publisher: Publisher, maps: VendorMaps, *,
               bitrix: Bitrix24Deals | None = None,
               clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI):
        yield
        # Here, not after uvicorn.run: uvicorn re-raises SIGTERM once the app has stopped.
        if bitrix is not None:
            await bitrix.close()
        await asyncio.to_thread(publisher.close)

    app = FastAPI(title="leakwatch ingest", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    secrets: dict[str, SecretStr | None] = {
        "amocrm": settings.ingest_amocrm_token, "bitrix24": settings.ingest_bitrix24_token,
        "telephony": settings.ingest_telephony_token, "events": settings.ingest_events_token,
    }

    async def body_of(request: Request) -> bytes | JSONResponse:
        declared = request.headers.get("content-length") or "0"
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:  # refuse before reading it
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        raw = await request.body()
        return _error(413, f"body larger than {MAX_BODY_BYTES} bytes") if len(raw) > MAX_BODY_BYTES else raw

    def denied(source: str, request: Request, extra: tuple[str, ...] = ()) -> JSONResponse | None:
        tokens = presented(request.headers, request.query_params) + list(extra)
        if token_ok(secrets[source], tokens):
            return None
        log.warning("%s: rejected a post with a wrong or missing token", source)
        return _error(401, f"wrong or missing token for {source} (LEAKWATCH_INGEST_{source.upper()}_TOKEN)")

    async def reject(source: str, spec: TopicSpec, error: str, raw: bytes, status: int = 422) -> JSONResponse:
        try:
            await publisher.dead_letter(spec.name, f"ingest {source}: {error}", raw)
        except DeliveryFailed:
            log.exception("%s: dead letter not stored", source)
            return _error(503, "Kafka did not confirm the dead letter; retry")
        log.warning("%s: payload to deadletter: %s", source, error)
        return _error(status, error, dead_letter=True)

    async def store(source: str, spec: TopicSpec, events: list[BaseModel]) -> JSONResponse:
        try:
            await publisher.publish(spec, events)
        except DeliveryFailed:
            log.exception("%s: %d events not confirmed by Kafka", source, len(events))
            return _error(503, "Kafka did not confirm the events; retry")
        listed = [{"event_id": e.event_id, "deal_id": e.deal_id} for e in events]
        log.info("%s: %d events to %s: %s", source, len(events), spec.name,
                 ", ".join(f"{e['event_id']} (deal {e['deal_id']})" for e in listed))
        return JSONResponse({"topic": spec.name, "events": listed}, status_code=202)

    async def map_and_store(source: str, spec: TopicSpec, raw: bytes, payload_or_error: object,
                            mapper: Callable[[object], list[BaseModel]]) -> JSONResponse:
        try:
            if isinstance(payload_or_error, MappingError):
                raise payload_or_error
            events = mapper(payload_or_error)
        except MappingError as exc:
            return await reject(source, spec, str(exc), raw)
        except ValidationError as exc:  # mapped, but a value breaks the canonical contract
            return await reject(source, spec, f"does not match {spec.name} v1: {describe(exc)}", raw)
        return await store(source, spec, events)

    def parsed(raw: bytes, request: Request) -> object:
        try:
            return parse_body(raw, request.headers.get("content-type"))
        except MappingError as exc:
            return exc

    async def vendor(request: Request, source: str, spec: TopicSpec, mapper: Mapper) -> JSONResponse:
        raw = await body_of(request)
        if isinstance(raw, JSONResponse):
            return raw
        if (refused := denied(source, request)) is not None:
            return refused
        return await map_and_store(source, spec, raw, parsed(raw, request), lambda p: mapper(p, maps, clock()))

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "sources": {name: secret is not None for name, secret in secrets.items()}}

    @app.post("/v1/webhooks/amocrm")
    @app.post("/v1/webhooks/kommo")  # Kommo is amoCRM's international edition: same hooks
    async def amocrm_hook(request: Request) -> JSONResponse:
        return await vendor(request, "amocrm", DEALS, amocrm.deal_events)

    @app.post("/v1/webhooks/telephony")
    async def telephony_hook(request: Request) -> JSONResponse:
        return await vendor(request, "telephony", CALLS, telephony.call_events)

    @app.post("/v1/webhooks/bitrix24")
    async def bitrix24_hook(request: Request) -> JSONResponse:
        raw = await body_of(request)
        if isinstance(raw, JSONResponse):
            return raw
        payload = parsed(raw, request)
        auth = payload.get("auth") if isinstance(payload, dict) else None
        app_token = auth.get("application_token") if isinstance(auth, dict) else None
        if (refused := denied("bitrix24", request, (app_token,) if isinstance(app_token, str) else ())) is not None:
            return refused
        try:
            if bitrix is not None and not isinstance(payload, MappingError) and bitrix24.needs_deal_fields(payload):
                deal_id = bitrix24.deal_id(payload)
                payload = bitrix24.with_deal_fields(payload, await bitrix.deal(deal_id))
        except MappingError as exc:
            payload = exc
        except DealFetchFailed as exc:
            return await reject("bitrix24", DEALS, str(exc), raw, status=502)  # Bitrix24 did not answer
        return await map_and_store("bitrix24", DEALS, raw, payload,
                                   lambda p: bitrix24.deal_events(p, maps, clock()))

    @app.post("/v1/events/{topic}")
    async def canonical(topic: str, request: Request) -> JSONResponse:
        raw = await body_of(request)
        if isinstance(raw, JSONResponse):
            return raw
        if (refused := denied("events", request)) is not None:
            return refused
        spec = TOPICS.get(topic)
        if spec is None:
            return _error(404, f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
        return await map_and_store("events", spec, raw, parsed(raw, request),
                                   lambda p: canonical_events(spec, p))

    return app

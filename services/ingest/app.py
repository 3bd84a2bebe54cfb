"""The HTTP side of the gateway: each vendor's authentication, the capped body, the answers.

Every post ends one of these ways, so nothing is lost and vendors never read success as
failure or the reverse:
- 200 `accepted`: Kafka acknowledged its events;
- 200 `ignored`: a known event the product does not use (an interim call state, a contact);
  counted in /metrics, nothing produced;
- 202 `dead_lettered`: it cannot be mapped; the raw body is on the private ingest.deadletter
  with the reason;
- 202 `queued`: the vendor's REST lookup failed; the webhook is kept on ingest.retries and the
  retrier reads it again later;
- 401 (wrong or missing credential) / 413 (body over the cap): nothing stored, nothing read past
  the check;
- 503: Kafka did not confirm, so it is NOT stored; the sender retries (event ids are
  deterministic, so a retry never doubles).
Logs name sources, event ids and deal ids only: bodies hold transcripts and phone numbers.
"""

from __future__ import annotations

import asyncio
import logging
import re
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from pydantic import SecretStr, ValidationError

from leakwatch.settings import Settings
from schemas.decoding import describe
from schemas.topics import REVIEWS
from services.ingest import zadarma
from services.ingest.auth import mango_sign_ok, presented, token_ok, zadarma_signature_ok
from services.ingest.body import BodyTooLarge, read_capped
from services.ingest.calls import Ignored
from services.ingest.canonical import TOPICS
from services.ingest.errors import MappingError
from services.ingest.forms import parse_body
from services.ingest.handlers import Handlers, flat_form, target_of
from services.ingest.publisher import Publisher
from services.ingest.vendor_rest import LookupFailed
from services.kafka_out import DeliveryFailed

log = logging.getLogger("leakwatch.ingest")

MAX_BODY_BYTES = 5 * 1024 * 1024  # a long call's transcript fits many times over
RETRY_ROUNDS = 12  # a webhook whose lookup keeps failing goes to the dead letters after these
ECHO = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


def _answer(code: int, **body: object) -> JSONResponse:
    return JSONResponse(body, status_code=code)


class Gateway:
    """What a post becomes, for the routes and the retrier alike."""

    def __init__(self, publisher: Publisher, handlers: Handlers, registry: CollectorRegistry):
        self.publisher, self.handlers = publisher, handlers
        self.outcomes = Counter("leakwatch_ingest_requests", "Webhook posts by source and outcome",
                                ["source", "outcome"], registry=registry)

    def count(self, source: str, outcome: str) -> None:
        self.outcomes.labels(source=source, outcome=outcome).inc()

    async def settle(self, route: str, raw: bytes, content_type: str | None, attempt: int = 0) -> tuple[int, dict]:
        """Raises DeliveryFailed when Kafka did not confirm what it had to store."""
        source = route.partition(":")[0]
        spec = target_of(route, raw)
        try:
            result = await self.handlers.run(route, raw, content_type)
        except LookupFailed as exc:
            if attempt + 1 >= RETRY_ROUNDS:
                return await self._dead(source, spec.name, f"gave up after {RETRY_ROUNDS} rounds: {exc}", raw)
            await self.publisher.retry_later(route, spec.name, f"ingest {source}: {exc}", raw, attempt + 1)
            log.warning("%s: lookup failed, kept for a retry (round %d): %s", source, attempt + 1, exc)
            self.count(source, "queued")
            return 202, {"status": "queued", "error": str(exc)}
        except MappingError as exc:
            return await self._dead(source, spec.name, str(exc), raw)
        except ValidationError as exc:  # mapped, but a value breaks the canonical contract
            return await self._dead(source, spec.name, f"does not match {spec.name} v1: {describe(exc)}", raw)
        if isinstance(result, Ignored):
            log.info("%s: ignored: %s", source, result.reason)
            self.count(source, "ignored")
            return 200, {"status": "ignored", "reason": result.reason}
        await self.publisher.publish(result.spec, result.events)
        listed = [{"event_id": e.event_id, "deal_id": e.deal_id} for e in result.events]
        log.info("%s: %d events to %s: %s", source, len(listed), result.spec.name,
                 ", ".join(f"{e['event_id']} (deal {e['deal_id']})" for e in listed))
        self.count(source, "accepted")
        return 200, {"status": "accepted", "topic": result.spec.name, "events": listed}

    async def _dead(self, source: str, topic: str, error: str, raw: bytes) -> tuple[int, dict]:
        await self.publisher.dead_letter(topic, f"ingest {source}: {error}", raw)
        log.warning("%s: payload to ingest.deadletter: %s", source, error)
        self.count(source, "dead_lettered")
        return 202, {"status": "dead_lettered", "error": error}


def create_app(settings: Settings, publisher: Publisher, handlers: Handlers, *, retrier=None) -> FastAPI:
    registry = CollectorRegistry()
    gateway = Gateway(publisher, handlers, registry)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        task = asyncio.create_task(retrier.run(gateway)) if retrier is not None else None
        yield
        # Here, not after uvicorn.run: uvicorn re-raises SIGTERM once the app has stopped.
        if task is not None:
            retrier.stop()
            await task
        await handlers.close()
        await asyncio.to_thread(publisher.close)

    app = FastAPI(title="leakwatch ingest", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    tokens: dict[str, SecretStr | None] = {
        "amocrm": settings.ingest_amocrm_token, "telephony": settings.ingest_telephony_token,
        "events": settings.ingest_events_token, "reviews": settings.ingest_reviews_token,
    }
    sources = {**tokens, "bitrix24": settings.ingest_bitrix24_app_token,
               "mango": settings.ingest_mango_api_salt, "zadarma": settings.ingest_zadarma_secret}

    def unauthorized(source: str, setting: str) -> JSONResponse:
        log.warning("%s: rejected a post with a wrong or missing credential", source)
        gateway.count(source, "unauthorized")
        return _answer(401, status="unauthorized", error=f"wrong or missing credential for {source} ({setting})")

    async def body(request: Request, source: str) -> bytes | JSONResponse:
        try:
            return await read_capped(request, MAX_BODY_BYTES)
        except BodyTooLarge as exc:
            gateway.count(source, "too_large")
            return _answer(413, status="too_large", error=str(exc))

    async def process(route: str, raw: bytes, request: Request) -> JSONResponse:
        try:
            status, answer = await gateway.settle(route, raw, request.headers.get("content-type"))
        except DeliveryFailed:
            log.exception("%s: Kafka did not confirm; nothing stored", route)
            gateway.count(route.partition(":")[0], "failed")
            return _answer(503, status="not_stored", error="Kafka did not confirm; nothing was stored, retry")
        return _answer(status, **answer)

    async def token_route(request: Request, source: str, route: str, setting: str) -> JSONResponse:
        if not token_ok(tokens[source], presented(request.headers, request.query_params)):
            return unauthorized(source, setting)  # before a byte of the body is read
        raw = await body(request, source)
        return raw if isinstance(raw, JSONResponse) else await process(route, raw, request)

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "sources": {name: secret is not None for name, secret in sources.items()}}

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/webhooks/amocrm")
    @app.post("/v1/webhooks/kommo")  # Kommo is amoCRM's international edition: same hooks
    async def amocrm_hook(request: Request) -> JSONResponse:
        return await token_route(request, "amocrm", "amocrm", "LEAKWATCH_INGEST_AMOCRM_TOKEN")

    @app.post("/v1/webhooks/telephony")
    async def telephony_hook(request: Request) -> JSONResponse:
        return await token_route(request, "telephony", "telephony", "LEAKWATCH_INGEST_TELEPHONY_TOKEN")

    @app.post("/v1/webhooks/bitrix24")
    async def bitrix24_hook(request: Request) -> JSONResponse:
        raw = await body(request, "bitrix24")
        if isinstance(raw, JSONResponse):
            return raw
        try:
            payload = parse_body(raw, request.headers.get("content-type"))
        except MappingError:
            payload = None
        auth = payload.get("auth") if isinstance(payload, dict) else None
        app_token = auth.get("application_token") if isinstance(auth, dict) else None
        if not token_ok(settings.ingest_bitrix24_app_token, [app_token] if isinstance(app_token, str) else []):
            return unauthorized("bitrix24", "LEAKWATCH_INGEST_BITRIX24_APP_TOKEN")
        return await process("bitrix24", raw, request)

    @app.post("/v1/webhooks/mango/ping")
    async def mango_ping() -> dict:
        # The VPBX's "check the connection" button; nothing is read or stored.
        gateway.count("mango", "ignored")
        return {"status": "ignored", "reason": "Mango ping"}

    @app.post("/v1/webhooks/mango/events/{event:path}")
    async def mango_hook(event: str, request: Request) -> JSONResponse:
        raw = await body(request, "mango")
        if isinstance(raw, JSONResponse):
            return raw
        try:
            form = flat_form(raw)
        except MappingError:
            form = {}
        if not mango_sign_ok(settings.ingest_mango_api_key, settings.ingest_mango_api_salt, form):
            return unauthorized("mango", "LEAKWATCH_INGEST_MANGO_API_KEY / _SALT")
        return await process(f"mango:{event.strip('/')}", raw, request)

    @app.get("/v1/webhooks/zadarma")
    async def zadarma_check(request: Request) -> Response:
        # Zadarma asks for ?zd_echo=<random> and wants it back before it saves the hook URL.
        echo = request.query_params.get("zd_echo") or ""
        if not ECHO.match(echo):
            return _answer(400, status="bad_request", error="expected ?zd_echo=<letters and digits>")
        return PlainTextResponse(echo)

    @app.post("/v1/webhooks/zadarma")
    async def zadarma_hook(request: Request) -> JSONResponse:
        raw = await body(request, "zadarma")
        if isinstance(raw, JSONResponse):
            return raw
        try:
            fields = flat_form(raw)
        except MappingError:
            fields = {}
        signed = zadarma.signed_string(fields)
        if not zadarma_signature_ok(settings.ingest_zadarma_secret, signed, request.headers.get("signature")):
            return unauthorized("zadarma", "LEAKWATCH_INGEST_ZADARMA_SECRET")
        return await process("zadarma", raw, request)

    @app.post("/v1/events/{topic}")
    async def canonical(topic: str, request: Request) -> JSONResponse:
        spec = TOPICS.get(topic)
        if spec is None:
            return _answer(404, status="unknown_topic", error=f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
        # A review overrides the AI: the events token cannot post one.
        if spec is REVIEWS:
            return await token_route(request, "reviews", f"events:{topic}", "LEAKWATCH_INGEST_REVIEWS_TOKEN")
        return await token_route(request, "events", f"events:{topic}", "LEAKWATCH_INGEST_EVENTS_TOKEN")

    app.state.gateway = gateway
    return app


"""`leakwatch ingest`: run the webhook gateway."""

from __future__ import annotations

import logging
import sys


def register(sub) -> None:
    p = sub.add_parser("ingest", help="run the webhook gateway (amoCRM/Kommo, Bitrix24, Mango Office, Zadarma, telephony, canonical events)")
    p.add_argument("--host", help="bind address (default: LEAKWATCH_INGEST_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: LEAKWATCH_INGEST_PORT, 8088)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from services.ingest.amocrm_rest import AmoCrmRest
    from services.ingest.app import create_app
    from services.ingest.bitrix24_rest import Bitrix24Rest
    from services.ingest.handlers import Handlers
    from services.ingest.publisher import Publisher, producer_config
    from services.ingest.retrier import Retrier
    from services.ingest.vendor_maps import load_maps
    from services.ingest.vendor_rest import RestClient
    from services.kafka_out import EventProducer
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    try:
        maps = load_maps(settings.ingest_mapping)
    except ValueError as exc:
        print(f"leakwatch: invalid settings\n  LEAKWATCH_INGEST_MAPPING: {exc}", file=sys.stderr)
        return 2
    phone_sources = [name for name, secret in (
        ("mango", settings.ingest_mango_api_key), ("zadarma", settings.ingest_zadarma_secret),
        ("bitrix24", settings.ingest_bitrix24_app_token), ("telephony", settings.ingest_telephony_token)) if secret]
    salt = settings.phone_hash_salt
    if phone_sources and (salt is None or len(salt.get_secret_value()) < 16):
        print("leakwatch: invalid settings\n  LEAKWATCH_PHONE_HASH_SALT: needed (16+ characters) for the client "
              f"phones of {', '.join(phone_sources)}; they leave the gateway only hashed", file=sys.stderr)
        return 2
    ensure_topics(settings)  # the gateway may start before the worker; topics must exist
    closed = [name for name, secret in (
        ("amocrm", settings.ingest_amocrm_token), ("bitrix24", settings.ingest_bitrix24_app_token),
        ("mango", settings.ingest_mango_api_key), ("zadarma", settings.ingest_zadarma_secret),
        ("telephony", settings.ingest_telephony_token), ("events", settings.ingest_events_token),
        ("reviews", settings.ingest_reviews_token)) if secret is None]
    if closed:
        logging.getLogger("leakwatch.ingest").warning("no credential set for %s: they answer 401", ", ".join(closed))
    limits = {"per_second": settings.ingest_rest_per_second, "max_attempts": settings.ingest_rest_max_attempts}
    bitrix = amo = None
    if settings.ingest_bitrix24_webhook_url:
        bitrix = Bitrix24Rest(RestClient(settings.ingest_bitrix24_webhook_url.get_secret_value(), **limits))
    if settings.ingest_amocrm_api_url and settings.ingest_amocrm_api_token:
        token = settings.ingest_amocrm_api_token.get_secret_value()
        amo = AmoCrmRest(RestClient(settings.ingest_amocrm_api_url, headers={"Authorization": f"Bearer {token}"},
                                    **limits))
    handlers = Handlers(settings, maps, amocrm_rest=amo, bitrix_rest=bitrix)
    producer = EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix,
                             config=producer_config(settings.ingest_ack_timeout_s))
    publisher = Publisher(producer, settings.ingest_ack_timeout_s)
    app = create_app(settings, publisher, handlers, retrier=Retrier(settings))  # closes all on shutdown
    # No access log: amoCRM puts the token in the query string, and it must not reach logs.
    uvicorn.run(app, host=args.host or settings.ingest_host, port=args.port or settings.ingest_port,
                log_level=args.loglevel.lower(), access_log=False)
    return 0

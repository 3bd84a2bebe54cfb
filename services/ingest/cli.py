"""`leakwatch ingest`: run the webhook gateway."""

from __future__ import annotations

import logging
import sys


def register(sub) -> None:
    p = sub.add_parser("ingest", help="run the webhook gateway (amoCRM/Kommo, Bitrix24, telephony, canonical events)")
    p.add_argument("--host", help="bind address (default: LEAKWATCH_INGEST_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: LEAKWATCH_INGEST_PORT, 8088)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from services.ingest.app import create_app
    from services.ingest.bitrix24_rest import Bitrix24Deals
    from services.ingest.publisher import Publisher
    from services.ingest.vendor_maps import load_maps
    from services.kafka_out import EventProducer
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    try:
        maps = load_maps(settings.ingest_mapping)
    except ValueError as exc:
        print(f"leakwatch: invalid settings\n  LEAKWATCH_INGEST_MAPPING: {exc}", file=sys.stderr)
        return 2
    ensure_topics(settings)  # the gateway may start before the worker; topics must exist
    closed = [name for name in ("amocrm", "bitrix24", "telephony", "events")
              if getattr(settings, f"ingest_{name}_token") is None]
    if closed:
        logging.getLogger("leakwatch.ingest").warning(
            "no token set for %s: those endpoints answer 401", ", ".join(closed))
    rest_url = settings.ingest_bitrix24_rest_url
    bitrix = Bitrix24Deals(rest_url.get_secret_value()) if rest_url else None
    publisher = Publisher(EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix),
                          settings.ingest_ack_timeout_s)
    app = create_app(settings, publisher, maps, bitrix=bitrix)  # closes both on shutdown
    # No access log: amoCRM puts the token in the query string, and it must not reach logs.
    uvicorn.run(app, host=args.host or settings.ingest_host, port=args.port or settings.ingest_port,
                log_level=args.loglevel.lower(), access_log=False)
    return 0

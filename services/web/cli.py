"""`leakwatch web`: the web board on 127.0.0.1:6070 (LEAKWATCH_WEB_HOST / _PORT), on the
store this process opens; reviews go to `refusals.reviewed`."""

from __future__ import annotations

import logging
import threading


def register(sub) -> None:
    p = sub.add_parser("web", help="the web board: both cards, managers, cases, the review queue")
    p.add_argument("--host", help="bind address (default: LEAKWATCH_WEB_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: LEAKWATCH_WEB_PORT, 6070)")
    p.add_argument("--follow", action="store_true",
                   help="feed this board's own store from refusals.classified (beside a worker that owns its chdb)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from leakwatch.store.clickhouse import ClickHouseStore
    from leakwatch.web.app import create_app
    from leakwatch.web.auth import check_bind, is_loopback
    from services.kafka_out import EventProducer
    from services.web.follow import ClassifiedFollower
    from services.web.reviews_out import KafkaReviewPublisher
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    log = logging.getLogger("leakwatch.web")
    host, port = args.host or settings.web_host, args.port or settings.web_port
    token = settings.web_token.get_secret_value() if settings.web_token else None
    check_bind(host, token)  # StartupError: no credentials beyond loopback
    if not token:
        log.warning("LEAKWATCH_WEB_TOKEN is not set: the review queue is read-only")
    ensure_topics(settings)
    store = ClickHouseStore.open(settings)
    publisher = KafkaReviewPublisher(EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix))
    follower = None
    if args.follow:
        follower = ClassifiedFollower(settings, store, group=f"{settings.app_id}-web-{port}")
        threading.Thread(target=follower.run, name="web-follow", daemon=True).start()
    app = create_app(store, publisher, settings, reads_open=is_loopback(host))
    print(f"leakwatch board: http://{host}:{port}/", flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level=args.loglevel.lower(), access_log=False)
    finally:
        if follower:
            follower.stop()
        publisher.close()
        store.close()
    return 0

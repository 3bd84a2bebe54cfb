"""`leakwatch sink`: refusals.classified and won deals -> ClickHouse; serves /cards,
/cases, /won-means, /metrics, /health and the web board at / (127.0.0.1:6067 by default)."""

from __future__ import annotations

import logging
import threading


def register(sub) -> None:
    p = sub.add_parser("sink", help="store refusals.classified in ClickHouse; serve the boards' reads and the web board")
    p.add_argument("--host", help="bind address (default: LEAKWATCH_SINK_WEB_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: LEAKWATCH_SINK_WEB_PORT, 6067)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=run)


def run(args) -> int:
    import uvicorn

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from leakwatch.store.clickhouse import ClickHouseStore
    from leakwatch.web.auth import check_bind, is_loopback
    from services.sink.app import create_app
    from services.sink.board import web_board
    from services.sink.consumer import ClassifiedSink
    from services.sink.periodic import run_periodic
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    log = logging.getLogger("leakwatch.sink")
    host, port = args.host or settings.sink_web_host, args.port or settings.sink_web_port
    # The board's reviews change numbers: no listening beyond loopback without the token.
    check_bind(host, settings.web_token.get_secret_value() if settings.web_token else None)
    ensure_topics(settings)
    store = ClickHouseStore.open(settings)
    board, publisher = web_board(settings, store, host)
    sink = ClassifiedSink(settings, store)
    stop = threading.Event()
    consumer = threading.Thread(target=sink.run, name="sink-consumer", daemon=True)
    periodic = threading.Thread(target=run_periodic, args=(settings, store, stop), name="sink-periodic", daemon=True)
    consumer.start()
    periodic.start()

    def health() -> dict:
        report = sink.health.report()
        if not consumer.is_alive():
            report.update(status="consumer stopped")
        return report

    def shutdown() -> None:
        stop.set()
        sink.stop()
        consumer.join(timeout=60)
        if publisher is not None:
            publisher.close()
        log.info("sink stopped")

    app = create_app(settings, store, health, on_shutdown=shutdown, board=board, reads_open=is_loopback(host))
    print(f"leakwatch board: http://{host}:{port}/", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=args.loglevel.lower(), access_log=False)
    return 0

"""`leakwatch notifier`: consume alerts.leak_spikes and serve POST /grafana, posting both
to the configured webhook / Telegram / Slack."""

from __future__ import annotations

import logging
import threading


def register(sub) -> None:
    p = sub.add_parser("notifier", help="post leak alerts (Kafka and Grafana) to webhook / Telegram / Slack")
    p.add_argument("--host", help="bind address (default: LEAKWATCH_NOTIFIER_HOST, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: LEAKWATCH_NOTIFIER_PORT, 8089)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=run)


def run(args) -> int:
    import httpx
    import uvicorn

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from services.kafka_out import EventProducer
    from services.notifier.app import create_app
    from services.notifier.consumer import AlertConsumer
    from services.notifier.dead_letters import DeadLetterWriter
    from services.notifier.delivery import Dispatcher
    from services.notifier.ledger import DeliveryLedger
    from services.notifier.targets import targets_from_settings
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    log = logging.getLogger("leakwatch.notifier")
    ensure_topics(settings)  # alerts and deadletter must exist: auto-creation is off

    client = httpx.Client(timeout=settings.notifier_timeout_s)
    targets = targets_from_settings(settings, client)
    if not targets:
        log.warning("no target configured (LEAKWATCH_NOTIFIER_WEBHOOK_URL, _TELEGRAM_BOT_TOKEN + _TELEGRAM_CHAT_ID, "
                    "_SLACK_WEBHOOK_URL): alerts are read and dropped")
    dead_letters = DeadLetterWriter(EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix))
    ledger = DeliveryLedger(settings.notifier_state_path)
    dispatcher = Dispatcher(targets, dead_letters, ledger, max_attempts=settings.notifier_max_attempts,
                            backoff_s=settings.notifier_backoff_s)
    stop = threading.Event()
    consumer = AlertConsumer(settings, dispatcher, dead_letters, stop)
    thread = threading.Thread(target=consumer.run, name="alerts-consumer", daemon=True)
    thread.start()

    def shutdown() -> None:
        stop.set()
        thread.join(timeout=60)  # the alert in hand is settled and committed first
        dead_letters.close()
        ledger.close()
        client.close()

    app = create_app(settings, dispatcher, dead_letters, consumer_alive=thread.is_alive, on_shutdown=shutdown)
    # No access log: a Grafana token may sit in the query string.
    uvicorn.run(app, host=args.host or settings.notifier_host, port=args.port or settings.notifier_port,
                log_level=args.loglevel.lower(), access_log=False)
    return 0

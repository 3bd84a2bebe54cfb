"""`leakwatch simulate spec|live`: put synthetic traffic on Kafka."""

from __future__ import annotations

import itertools
import sys
import time


def register(sub) -> None:
    p = sub.add_parser("simulate", help="produce synthetic sales traffic to Kafka")
    p.add_argument("mode", choices=("spec", "live"), help="spec: the design's two example days; live: deals lost now")
    p.add_argument("--rate", type=float, default=2.0, help="live: deals per second")
    p.add_argument("--deals", type=int, default=0, help="live: stop after this many deals (0: run until Ctrl-C)")
    p.add_argument("--no-reviews", action="store_true", help="spec: leave the classifier's labels in place")
    p.set_defaults(func=run)


def run(args) -> int:
    from leakwatch.settings import load_settings
    from services.kafka_out import DeliveryFailed, EventProducer
    from streams.topology import ensure_topics

    settings = load_settings()
    ensure_topics(settings, timeout_s=15)  # Kafka answers (else one line naming the setting), topics exist
    producer = EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix)
    try:
        return _produce(args, producer)
    except DeliveryFailed as exc:
        print(f"leakwatch: Kafka at {settings.kafka_bootstrap} (LEAKWATCH_KAFKA_BOOTSTRAP) did not take the "
              f"events: {exc}", file=sys.stderr)
        return 1


def _produce(args, producer) -> int:
    from schemas import topics
    from services.simulator import spec_scenario
    from services.simulator.scripts import load_scripts
    from services.simulator.traffic import live_deals

    if args.mode == "spec":
        sc = spec_scenario.build(with_reviews=not args.no_reviews)
        n = producer.send_all([*sc.events, *((topics.REVIEWS, r) for r in sc.reviews)])
        for topic, key, value in sc.malformed:
            producer.send_raw(topic, key, value)
        producer.flush()
        print(f"spec scenario: {n} events and {len(sc.malformed)} malformed ones sent")
        return 0
    deals = live_deals(load_scripts())
    if args.deals:
        deals = itertools.islice(deals, args.deals)
    interval = 1.0 / args.rate if args.rate > 0 else 0
    try:
        for i, events in enumerate(deals, 1):
            producer.send_all(events)
            if i % 20 == 0:
                producer.flush()
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        producer.flush()
    return 0

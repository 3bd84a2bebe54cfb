"""`leakwatch reactivation run|export`: the «Воронка отказов» service and its CSV."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import date
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("reactivation", help="the «Воронка отказов»: refusals.classified -> refusals.reactivation")
    actions = p.add_subparsers(dest="action", required=True)
    run_p = actions.add_parser("run", help="consume refusals, publish the list, create recontact tasks in the CRM")
    run_p.add_argument("--loglevel", default="info")
    run_p.set_defaults(func=run)
    exp = actions.add_parser("export", help="the list as CSV: deals to recontact between --from and --to")
    exp.add_argument("--from", dest="start", type=date.fromisoformat, required=True, help="first recontact day, YYYY-MM-DD")
    exp.add_argument("--to", dest="end", type=date.fromisoformat, required=True, help="last recontact day, YYYY-MM-DD")
    exp.add_argument("--pipeline")
    exp.add_argument("--manager")
    exp.add_argument("--out", help="file to write (default: standard output)")
    exp.add_argument("--headers", choices=("ru", "en"), default="ru",
                     help="ru: Russian headers and values for people (default); en: field names for programs")
    exp.set_defaults(func=export)


def run(args) -> int:
    import httpx

    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from services.kafka_out import EventProducer
    from services.reactivation.consumer import ReactivationService
    from services.reactivation.crm_tasks import writer_from_settings
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    log = logging.getLogger("leakwatch.reactivation")
    ensure_topics(settings)  # refusals.reactivation (compacted) among them: auto-creation is off
    client = httpx.Client(timeout=settings.reactivation_crm_timeout_s)
    writer = writer_from_settings(settings, client)
    log.info("reactivation: CRM tasks %s", writer.name if writer else "off (LEAKWATCH_REACTIVATION_CRM=none)")
    producer = EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    service = ReactivationService(settings, producer, writer, stop)
    try:
        service.run()  # returns when a signal sets `stop`, after the batch in hand is committed
    finally:
        producer.close()
        client.close()
    log.info("reactivation: stopped after %d refusals", service.handled)
    return 0


def export(args) -> int:
    from leakwatch.errors import StartupError
    from leakwatch.settings import load_settings
    from services.reactivation.consumer import newest_entries
    from services.reactivation.export import due_entries, write_csv

    settings = load_settings()
    if args.end < args.start:
        print("leakwatch: --to is before --from", file=sys.stderr)
        return 2
    entries = due_entries(newest_entries(settings).values(), args.start, args.end,
                          pipeline=args.pipeline, manager=args.manager)
    if args.out:
        out_path = Path(args.out)
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)  # `--out lists/december.csv` on a fresh checkout
            with out_path.open("w", encoding="utf-8-sig", newline="") as out:  # the BOM makes Excel read UTF-8
                count = write_csv(entries, out, settings.tz, language=args.headers)
        except OSError as exc:  # a file where a folder should be, no permission, a full disk
            raise StartupError(f"--out {args.out}: {exc.strerror or exc}") from None
        print(f"{count} deals to recontact -> {args.out}", file=sys.stderr)
    else:
        write_csv(entries, sys.stdout, settings.tz, language=args.headers)
    return 0

"""`leakwatch import amocrm|bitrix24|file`: last N days of history as canonical events."""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit


def register(sub) -> None:
    p = sub.add_parser("import", help="load history (deals, notes, tasks, calls) from the CRM or an export file")
    sources = p.add_subparsers(dest="source", required=True)
    for name, what in (("amocrm", "amoCRM/Kommo REST API v4 (LEAKWATCH_INGEST_AMOCRM_API_URL, _API_TOKEN)"),
                       ("bitrix24", "Bitrix24 inbound webhook (LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL)")):
        s = sources.add_parser(name, help=what)
        s.add_argument("--days", type=int, default=30, help="how far back (default 30)")
        s.add_argument("--account", help="the account in deal ids (default: the amoCRM subdomain or the Bitrix24 "
                                         "portal domain of the URL, as ingest names them)")
        s.add_argument("--checkpoint", type=Path, help="checkpoint file (default: LEAKWATCH_IMPORT_STATE_DIR/<source>.json)")
        s.add_argument("--restart", action="store_true", help="ignore an unfinished checkpoint and start over")
        s.set_defaults(func=run_vendor)
    f = sources.add_parser("file", help="canonical events (JSON, JSON Lines) or deals (CSV) from an export",
                           description="A deals CSV (columns deal_id, created_at, status, closed_at, stage, pipeline, "
                                       "manager, amount_rub, lost_reason, lost_comment) or canonical events as JSON / "
                                       "JSON Lines; README.md, «Importing history», describes both. A row that cannot "
                                       "be used is listed with its line and why, sent to the deadletter topic, and "
                                       "the rest is imported; the exit code is then 3.")
    f.add_argument("path", type=Path)
    f.add_argument("--checkpoint", type=Path)
    f.add_argument("--restart", action="store_true")
    f.set_defaults(func=run_file)


def _checkpoint(args, settings, source: str, since: datetime):
    from services.history import checkpoint as cp

    if source.startswith("file:"):
        name = "file-" + hashlib.sha1(source.encode()).hexdigest()[:12]
    else:  # amocrm:<subdomain>, bitrix24:<portal>
        name = "".join(c if c.isalnum() or c in ".-" else "-" for c in source.replace(":", "-", 1))
    path = args.checkpoint or settings.import_state_dir / f"{name}.json"
    existing = None if args.restart else cp.load(path)
    if existing is not None and existing.source == source and not existing.finished:
        print(f"resuming the import started {existing.started_at:%Y-%m-%d %H:%M} UTC (since "
              f"{existing.since:%Y-%m-%d}); --restart starts over", file=sys.stderr)
        return existing
    return cp.fresh(path, source, since, datetime.now(timezone.utc))


# Exit codes: 0 all imported; 1 stopped (run again to resume); 2 a wrong setting or file;
# 3 imported except the refused items, which are listed and sent to `deadletter`.
REFUSED_EXIT = 3
SHOWN_REFUSALS = 20


def _summary(counts, checkpoint, refused: list[tuple[str, str]]) -> int:
    """Prints what was imported and each refused item (where and why); the exit code."""
    for _, why in refused[:SHOWN_REFUSALS]:
        print(f"refused: {why}", file=sys.stderr)
    if len(refused) > SHOWN_REFUSALS:
        print(f"refused: … and {len(refused) - SHOWN_REFUSALS} more (all in the deadletter topic)", file=sys.stderr)
    streams = ", ".join(f"{k} {v.items}" for k, v in checkpoint.streams.items())
    topics = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    print(f"imported since {checkpoint.since:%Y-%m-%d}: {streams or 'file'} -> {topics or 'no events'}"
          + (f"; {len(refused)} items refused (listed above, sent to deadletter)" if refused else ""),
          file=sys.stderr)
    return REFUSED_EXIT if refused else 0


def run_vendor(args) -> int:
    import httpx

    from leakwatch.errors import StartupError
    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from services.history import amocrm, bitrix24, runner
    from services.history.names import load_maps
    from services.history.vendor_api import AmoCrmApi, Bitrix24Api, ImportFailed, RateLimiter, VendorClient
    from services.kafka_out import EventProducer
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging("warning")
    if args.days < 1:
        raise StartupError("--days must be at least 1")
    client = httpx.Client(timeout=30)
    retries = {"attempts": settings.import_max_attempts, "backoff_s": settings.import_backoff_s}
    if args.source == "amocrm":
        if not (settings.ingest_amocrm_api_url and settings.ingest_amocrm_api_token):
            raise StartupError("leakwatch import amocrm needs LEAKWATCH_INGEST_AMOCRM_API_URL and "
                               "LEAKWATCH_INGEST_AMOCRM_API_TOKEN")
        url = settings.ingest_amocrm_api_url
        api = AmoCrmApi(url, settings.ingest_amocrm_api_token.get_secret_value(),
                        VendorClient(client, RateLimiter(settings.import_amocrm_rps), **retries))
        trim, mapper = amocrm.trimmed, runner.map_amocrm
        account = args.account or (urlsplit(url).hostname or "").split(".")[0]
    else:
        if not settings.ingest_bitrix24_webhook_url:
            raise StartupError("leakwatch import bitrix24 needs LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL")
        url = settings.ingest_bitrix24_webhook_url.get_secret_value()
        api = Bitrix24Api(url, VendorClient(client, RateLimiter(settings.import_bitrix24_rps), **retries))
        trim, mapper = bitrix24.trimmed, runner.map_bitrix24
        account = args.account or (urlsplit(url).hostname or "")
    account = account.lower()
    if not account:
        raise StartupError("the account for deal ids is unknown: pass --account")
    try:
        maps = load_maps(settings.ingest_mapping)
    except ValueError as exc:
        raise StartupError(f"LEAKWATCH_INGEST_MAPPING: {exc}") from None
    ensure_topics(settings)
    since = datetime.now(timezone.utc) - timedelta(days=args.days)
    checkpoint = _checkpoint(args, settings, f"{args.source}:{account}", since)
    producer = EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix)
    try:
        with runner.progress_bar(sys.stderr.isatty()) as progress:
            runner.fetch(api, checkpoint, trim, progress)
            mapped = mapper(checkpoint, maps, account)
            counts = runner.produce(mapped, checkpoint, producer, progress)
    except ImportFailed as exc:
        print(f"leakwatch: import stopped: {exc}; run the same command again to resume", file=sys.stderr)
        return 1
    finally:
        client.close()
        producer.close()
    return _summary(counts, checkpoint, mapped.refused)


def run_file(args) -> int:
    from leakwatch.errors import StartupError
    from leakwatch.settings import load_settings
    from services.history import files, runner
    from services.history.names import MappingError
    from services.kafka_out import EventProducer
    from streams.topology import ensure_topics

    settings = load_settings()
    if not args.path.is_file():
        raise StartupError(f"{args.path}: no such file")
    try:
        events, refused = files.read_export(args.path)
    except MappingError as exc:
        raise StartupError(str(exc)) from None
    ensure_topics(settings)
    stamp = datetime.fromtimestamp(args.path.stat().st_mtime, timezone.utc)
    earliest = min((e.ts for _, e in events), default=stamp)
    # The file's path and time name the import: an edited file is a new import, not a resumed one.
    checkpoint = _checkpoint(args, settings, f"file:{args.path.resolve()}@{int(stamp.timestamp())}", earliest)
    producer = EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix)
    try:
        with runner.progress_bar(sys.stderr.isatty()) as progress:
            counts = runner.produce(runner.Mapped(events, refused), checkpoint, producer, progress)
    finally:
        producer.close()
    return _summary(counts, checkpoint, refused)

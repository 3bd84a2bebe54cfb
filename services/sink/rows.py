"""Decoding what the sink reads into rows for the store; an unreadable message becomes a
dead letter with the reason (the public topic may have other producers)."""

from __future__ import annotations

from datetime import datetime

import orjson

from schemas.decoding import decode
from schemas.events import ClassifiedRefusal, DeadLetter  # noqa: F401 (the decode result types)
from schemas.topics import CLASSIFIED

WON_FIELDS = ("deal_id", "version", "won_at", "pipeline", "manager", "amount_rub")


def refusal_from(raw: bytes | None, key: bytes | None, partition: int, offset: int) -> ClassifiedRefusal | DeadLetter:
    return decode(CLASSIFIED, raw, key=key, partition=partition, offset=offset)


def won_from(raw: bytes | None, topic: str, partition: int, offset: int) -> tuple | str:
    """A won_deals row, or the reason it is not one."""
    try:
        w = orjson.loads(raw or b"")
        row = tuple(w[f] for f in WON_FIELDS)
        won_at = datetime.fromisoformat(row[2])
        if won_at.tzinfo is None:
            return "won_at has no time zone"
        return (str(row[0]), int(row[1]), won_at, str(row[3]), str(row[4]), int(row[5]))
    except Exception as exc:
        return f"not a won-deal row: {type(exc).__name__}: {exc}"


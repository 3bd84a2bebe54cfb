"""Decoding what the sink reads into rows for the store; an unreadable message becomes a
dead letter with the reason (the public topic may have other producers)."""

from __future__ import annotations

from schemas.decoding import decode
from schemas.events import ClassifiedRefusal, DeadLetter, WonDeal
from schemas.topics import CLASSIFIED, WON_DEALS


def refusal_from(raw: bytes | None, key: bytes | None, partition: int, offset: int) -> ClassifiedRefusal | DeadLetter:
    return decode(CLASSIFIED, raw, key=key, partition=partition, offset=offset)


def won_from(raw: bytes | None, key: bytes | None, partition: int, offset: int) -> tuple | DeadLetter:
    """A won_deals row (deal_id, version, won_at, pipeline, manager, amount_rub), or a dead letter."""
    won = decode(WON_DEALS, raw, key=key, partition=partition, offset=offset)
    if isinstance(won, DeadLetter):
        return won
    assert isinstance(won, WonDeal)
    return (won.deal_id, won.version, won.won_at, won.pipeline, won.manager or "", won.amount_rub)

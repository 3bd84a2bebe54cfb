"""Hand-written conversations for classifier tests: `conversation(("03 10:00", "client", "…"), …)`
where the time is «day-of-March-2025 HH:MM» in Moscow time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas.conversation import ConversationInput, Message

MSK = timezone(timedelta(hours=3))


def at(stamp: str) -> datetime:
    day, hm = stamp.split()
    hour, minute = map(int, hm.split(":"))
    return datetime(2025, 3, int(day), hour, minute, tzinfo=MSK)


def conversation(*lines: tuple[str, str, str], id: str = "t1", **fields) -> ConversationInput:
    fields.setdefault("channel", "mixed")
    return ConversationInput(
        id=id,
        deal_id=f"D-{id}",
        messages=[Message(ts=at(stamp), speaker=speaker, text=text) for stamp, speaker, text in lines],
        **fields,
    )


def messages(*lines: tuple[str, str, str]) -> list[Message]:
    return conversation(*lines).messages

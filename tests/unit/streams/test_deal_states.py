"""The enrich agent's table access (streams/agents/enrich.py `DealStates`), on a dict that
counts writes (each write of a Faust table is a changelog record)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from schemas.events import DealEvent
from streams.agents.enrich import DealStates
from tests.support.recording_table import RecordingTable as Table

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)


def event(i: int, type_: str, stage: str) -> DealEvent:
    return DealEvent(event_id=f"D1-{i}", deal_id="D1", ts=T0 + timedelta(minutes=i), type=type_, stage=stage,
                     pipeline="b2c", manager="Анна")


def test_a_replayed_event_writes_the_unchanged_state_again():
    # A restarted worker's RocksDB may hold a state whose changelog record never left (killed
    # between the put and the send); the replay must publish it.
    table = Table()
    states = DealStates(table)
    states.fold(event(0, "created", "Новая заявка"))
    new, changed, replayed = states.fold(event(1, "lost", "Закрыто и не реализовано"))
    stored, writes = table["D1"], len(table.writes)
    again, changed, replayed = states.fold(event(1, "lost", "Закрыто и не реализовано"))
    assert replayed and not changed and again.revision == new.revision
    assert len(table.writes) == writes + 1 and table["D1"] == stored


def test_an_event_that_changes_nothing_and_is_new_is_not_written():
    table = Table()
    states = DealStates(table)
    states.fold(event(0, "created", "Новая заявка"))
    writes = len(table.writes)
    _, changed, replayed = states.fold(event(1, "stage_changed", "Новая заявка"))  # the same stage
    assert not changed and not replayed and len(table.writes) == writes

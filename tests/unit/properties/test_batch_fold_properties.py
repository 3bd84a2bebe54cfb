"""Property-based: the enrich agent's batch fold (streams/agents/enrich.py
`DealStates.fold_batch`) leaves the table exactly as folding the same events one at a time
with `apply_event` and storing each changed state would, however the stream is cut into
batches, and writes each deal at most once per batch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leakwatch.domain.deal_state import DealState, apply_event
from leakwatch.domain.retention import bounded, touched
from streams.agents.enrich import DealStates
from tests.unit.properties.test_fold_properties import EVENTS
from tests.support.recording_table import RecordingTable as Table


def finish(state: DealState) -> DealState:
    return bounded(state, timeline_cap=5)  # small: the cap bites inside a batch


def stamp(state: DealState) -> DealState:
    return touched(state, 1.0e9)


def one_by_one(events) -> dict:
    """The table after storing every changed state, event after event (the old agent)."""
    table: dict[str, dict] = {}
    for e in events:
        raw = table.get(e.deal_id)
        state = DealState.model_validate(raw) if raw else None
        new, changed = apply_event(state, e)
        if changed or state is None:
            table[e.deal_id] = touched(finish(new), 1.0e9).model_dump(mode="json")
    return table


# The fold properties' events, spread over three deals.
STREAMS = st.lists(st.tuples(EVENTS.flatmap(lambda es: st.just(es)), st.sampled_from(["D1", "D2", "D3"])),
                   max_size=3).map(lambda parts: [e.model_copy(update={"deal_id": deal})
                                                  for events, deal in parts for e in events])


@settings(deadline=None, max_examples=150)
@given(STREAMS, st.lists(st.integers(1, 15), min_size=1, max_size=10), st.booleans())
def test_batches_leave_the_table_as_one_by_one_does(events, cuts, replay):
    if replay:
        events = events + events[: len(events) // 2]  # at-least-once: a part delivered again
    expected = one_by_one(events)
    table = Table()
    states = DealStates(table, cache_size=0)  # every batch reads the stored dict, as RocksDB does
    i = 0
    while i < len(events):
        size = cuts[i % len(cuts)]
        batch = events[i:i + size]
        writes = len(table.writes)
        folds = states.fold_batch([(e, None) for e in batch], finish, stamp)
        assert len(table.writes) - writes <= len({e.deal_id for e in batch})
        assert sorted(f.deal_id for f in folds) == sorted({e.deal_id for e in batch})
        i += size
    assert dict(table) == expected

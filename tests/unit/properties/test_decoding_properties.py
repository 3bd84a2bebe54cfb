"""Property-based: whatever arrives on an input topic, decoding never raises; it yields
either the topic's model or a dead letter with a reason and the raw payload."""

from __future__ import annotations

import json

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.decoding import decode
from schemas.events import DeadLetter
from schemas.topics import INPUTS, INTERNAL

SPECS = st.sampled_from([*INPUTS, *INTERNAL])
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
                    max_leaves=20)
FIELDS = ("event_id", "deal_id", "ts", "type", "call_id", "direction", "status", "reviewer", "target", "reason",
          "kind", "leak", "transcript", "amount_rub", "revision", "due_at", "stage")


def dumps(value) -> bytes:
    """Any JSON, big integers included (which orjson, the decoder, cannot read)."""
    return json.dumps(value, ensure_ascii=False).encode()


def check(spec, raw: bytes, key: bytes | None = None) -> None:
    out = decode(spec, raw, key=key, partition=1, offset=7)
    if isinstance(out, DeadLetter):
        assert out.error and out.topic == spec.name and (out.partition, out.offset) == (1, 7)
        orjson.loads(out.model_dump_json())  # the dead letter itself is valid JSON
    else:
        assert isinstance(out, spec.model)


@given(SPECS, st.binary(max_size=300))
def test_random_bytes_never_crash(spec, raw):
    check(spec, raw)


@given(SPECS, JSON)
def test_any_json_value_never_crashes(spec, value):
    check(spec, dumps(value))


@given(SPECS, st.dictionaries(st.sampled_from(FIELDS), JSON, max_size=len(FIELDS)), st.binary(max_size=20) | st.none())
def test_objects_with_known_fields_of_wrong_types_never_crash(spec, fields, key):
    check(spec, dumps(fields), key)


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(INPUTS), st.integers(min_value=100_000, max_value=1_000_000))
def test_huge_fields_never_crash(spec, size):
    check(spec, orjson.dumps({"event_id": "e" * size, "deal_id": "D1", "ts": "2026-11-18T10:00:00+03:00",
                              "type": "created", "text": "x" * size}))

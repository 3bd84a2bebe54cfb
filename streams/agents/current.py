"""Make a Kafka event Faust's current one for a table write outside the stream's own
iteration (a batch, a publishing task): a table write takes its changelog partition (and
RocksDB its store partition) from the current event."""

from __future__ import annotations

import weakref
from contextlib import contextmanager

from faust.streams import _current_event


@contextmanager
def current_event(event):
    if event is None:  # the unit tests' plain dict
        yield
        return
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)

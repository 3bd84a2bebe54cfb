"""A dict standing in for a Faust table in unit tests, recording the keys written (in order)."""

from __future__ import annotations


class RecordingTable(dict):
    def __init__(self):
        super().__init__()
        self.writes: list[str] = []

    def __setitem__(self, key, value):
        self.writes.append(key)
        super().__setitem__(key, value)

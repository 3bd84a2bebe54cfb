"""An LRU cache of validated LLM answers keyed by a hash of what was sent, so a deal
re-classified after a late transcript costs nothing unless its conversation changed.
Keys are hashes, so the cache holds no conversation text."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


def conversation_key(model: str, messages: list[dict]) -> str:
    payload = json.dumps([model, messages], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class LRUCache(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, V] = OrderedDict()

    def get(self, key: str) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: V) -> None:
        if self.size <= 0:
            return
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

"""A cache of validated LLM answers (cachetools' LRU), so a deal re-classified after a late
transcript costs nothing unless its conversation changed. The key is the hash of the
conversation as sent, with the prompt version and the model: a new prompt or another model
never gets an old answer. Keys are hashes, so the cache holds no conversation text."""

from __future__ import annotations

import hashlib

from cachetools import LRUCache


def answer_key(model: str, prompt_version: str, conversation: str) -> str:
    """`conversation` is the user message: the deal's JSON document with its derived facts."""
    digest = hashlib.sha256(conversation.encode()).hexdigest()
    return f"{prompt_version}:{model}:{digest}"


def answer_cache(size: int) -> LRUCache | None:
    """None when caching is off (size 0)."""
    if size < 0:
        raise ValueError("cache size must be >= 0")
    return LRUCache(maxsize=size) if size else None

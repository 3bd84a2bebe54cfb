"""Deterministic event ids: a vendor retrying the same webhook yields the same ids, and the
stream ignores an id it has seen, so retries and replays never double-count."""

from __future__ import annotations

import hashlib

import orjson


def content_id(prefix: str, record: object) -> str:
    digest = hashlib.sha1(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return f"{prefix}:{digest}"

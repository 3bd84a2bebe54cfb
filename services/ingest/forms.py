"""Vendor bodies to plain dicts. Pure: no I/O.

amoCRM and Bitrix24 post PHP-style form fields (`leads[status][0][id]=1`); nesting them
gives the same shape as their JSON documentation, so one mapping serves both encodings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qsl

import orjson

from services.ingest.errors import MappingError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def parse_form(body: bytes) -> dict:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MappingError("form body is not UTF-8") from None
    root: dict = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(key)
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))] if match else [key]
        node = root
        for i, part in enumerate(path[:-1]):
            if part == "":  # `a[]=x`: the next free index
                part = str(len(node))
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise MappingError(f"form field {key!r} nests under a plain value at {'.'.join(path[:i + 1])}")
            node = child
        last = path[-1] if path[-1] != "" else str(len(node))
        if isinstance(node.get(last), dict):
            raise MappingError(f"form field {key!r} collides with nested fields")
        node[last] = value
    return root


def parse_body(body: bytes, content_type: str | None) -> object:
    """JSON when the sender says so (or the body looks like JSON), else form fields."""
    if not body.strip():
        raise MappingError("empty body")
    stripped = body.lstrip()
    if "json" in (content_type or "") or stripped[:1] in (b"{", b"["):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MappingError(f"not JSON: {exc}") from None
    return parse_form(body)


def entries(section: object) -> Iterator[dict]:
    """The items of a `[0]`, `[1]`... section (a dict from forms, a list from JSON), in order."""
    if isinstance(section, list):
        items = section
    elif isinstance(section, dict):
        keys = sorted(section, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0, k))
        items = [section[k] for k in keys]
    else:
        raise MappingError(f"expected a list of records, got {type(section).__name__}")
    for item in items:
        if not isinstance(item, dict):
            raise MappingError(f"expected a record, got {type(item).__name__}")
        yield item

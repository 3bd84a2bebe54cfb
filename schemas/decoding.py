"""Turn raw Kafka bytes into a model, or into a dead letter saying why. Pure: no I/O."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import orjson
from pydantic import BaseModel, ValidationError

from schemas.events import DeadLetter
from schemas.topics import TopicSpec


def payload_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(raw).decode("ascii")


def describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def decode(spec: TopicSpec, raw: bytes | None, *, key: bytes | None = None,
           partition: int | None = None, offset: int | None = None) -> BaseModel | DeadLetter:
    def dead(reason: str) -> DeadLetter:
        return DeadLetter(
            topic=spec.name, partition=partition, offset=offset,
            key=payload_text(key) if key is not None else None,
            error=reason, payload=payload_text(raw or b""),
            received_at=datetime.now(timezone.utc),
        )

    if not raw:
        return dead("empty message")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return dead(f"not JSON: {exc}")
    if not isinstance(data, dict):
        return dead(f"expected a JSON object, got {type(data).__name__}")
    try:
        event = spec.model.model_validate(data)
    except ValidationError as exc:
        return dead(f"does not match {spec.name} v1: {describe(exc)}")
    if key is not None and spec.key_field in spec.model.model_fields:
        expected = str(getattr(event, spec.key_field))
        if payload_text(key) != expected:
            return dead(f"key {payload_text(key)!r} differs from {spec.key_field} {expected!r}")
    return event

"""Turning an LLM's reply into labels: strict JSON, or the first JSON object cut out of
prose (vLLM/Ollama/llama.cpp without structured output), then pydantic validation.
Anything that does not validate is a failed answer, never a guessed label."""

from __future__ import annotations

import json

from pydantic import Field, ValidationError, field_validator, model_validator

from schemas.conversation import Labels


class InvalidAnswer(ValueError):
    """The model's reply is not usable labels."""


class LLMAnswer(Labels):
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: str = ""

    @model_validator(mode="before")
    @classmethod
    def _blank_is_null(cls, data: object) -> object:
        # Models without structured output often write "" or "null" for a missing label.
        if isinstance(data, dict):
            data = {
                k: None if k in ("reason", "kind", "leak") and str(v).strip().lower() in ("", "null", "none") else v
                for k, v in data.items()
            }
        return data

    @field_validator("evidence", mode="before")
    @classmethod
    def _short(cls, value: object) -> object:
        if value is None:
            return ""
        if isinstance(value, str) and len(value) > 200:
            return value[:199].rstrip() + "…"
        return value


def first_json_object(text: str) -> dict | None:
    """The first `{...}` in `text` that parses as a JSON object."""
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value = None
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def parse_json(content: str | None, *, lenient: bool) -> dict | None:
    """The reply as a JSON object; with `lenient`, the first object embedded in text."""
    if not content:
        return None
    text = content.strip()
    if text.startswith("```"):  # a fenced block is still "just JSON" for our purpose
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if isinstance(value, dict):
        return value
    return first_json_object(text) if lenient else None


def validate(data: dict) -> LLMAnswer:
    try:
        return LLMAnswer.model_validate(data)
    except ValidationError as exc:
        # Field names and error kinds only: the values may quote the conversation.
        problems = ", ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['type']}" for e in exc.errors())
        raise InvalidAnswer(problems) from None

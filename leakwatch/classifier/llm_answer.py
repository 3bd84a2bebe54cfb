"""Turning an LLM's reply into labels: strict JSON, or the first JSON object cut out of
prose (vLLM/Ollama/llama.cpp without structured output), then pydantic validation with the
policy's cross-field rules (non-target: no reason/kind/leak and not hot; real: no leak;
salvageable: a leak; label strings exactly as defined). Anything that does not validate is
a failed answer, never a guessed or repaired label."""

from __future__ import annotations

import json

from pydantic import Field, ValidationError, field_validator, model_validator

from leakwatch.classifier.prompt import REASONING_MAX_CHARS
from schemas.conversation import Labels


class InvalidAnswer(ValueError):
    """The model's reply is not usable labels."""


class LLMAnswer(Labels):
    reasoning: str = ""  # the model's grounds, written first; never stored or logged
    confidence: float = Field(ge=0.0, le=1.0)
    evidence: str = ""

    @model_validator(mode="after")
    def _not_target_is_not_hot(self) -> "LLMAnswer":
        # Labels checks the rest of the cross-field rules; this one is the policy's too.
        if not self.target and self.hot:
            raise ValueError("a non-target item is not hot")
        return self

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

    @field_validator("evidence", "reasoning", mode="before")
    @classmethod
    def _short(cls, value: object, info) -> object:
        limit = 200 if info.field_name == "evidence" else REASONING_MAX_CHARS
        if value is None:
            return ""
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1].rstrip() + "…"
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
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise InvalidAnswer(problems) from None

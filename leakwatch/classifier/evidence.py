"""Evidence quotes: short, verbatim, from the conversation itself."""

from __future__ import annotations

from schemas.conversation import ConversationInput
from leakwatch.classifier.facts import quote

MAX_CHARS = 200


def _squash(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def is_quote(evidence: str, item: ConversationInput) -> bool:
    """True when `evidence` (ignoring case, spacing, a trailing ellipsis) occurs in a message."""
    needle = _squash(evidence).rstrip("…").strip()
    return bool(needle) and any(needle in _squash(m.text) for m in item.messages)


def last_client_words(item: ConversationInput) -> str:
    for m in reversed(item.messages):
        if m.speaker == "client" and m.text.strip():
            return quote(m.text, MAX_CHARS)
    return quote(item.messages[-1].text, MAX_CHARS) if item.messages else ""

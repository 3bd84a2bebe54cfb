"""Labelled conversations as JSON Lines: the input format plus a "gold" object with the
labels a QA lead gave. The engine's example bank and the dev set use it; so does
`leakwatch eval`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from pydantic import ValidationError

from schemas.conversation import ConversationInput, Labels

BANK_PATH = Path(__file__).with_name("bank") / "examples.jsonl"


class InputError(ValueError):
    """A bad input line; the message names the line number."""


@dataclass(frozen=True)
class Labelled:
    item: ConversationInput
    gold: Labels


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(map(str, first["loc"])) or "line"
    more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


def parse_lines(lines: Iterable[str], source: str, *, with_gold: bool) -> Iterator[ConversationInput | Labelled]:
    """Yield one conversation (or labelled conversation) per non-blank line."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{source}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise InputError(f"{source}:{number}: expected a JSON object")
        try:
            item = ConversationInput.model_validate(data)
            if not with_gold:
                yield item
                continue
            if "gold" not in data:
                raise InputError(f"{source}:{number}: no \"gold\" labels to evaluate against")
            yield Labelled(item, Labels.model_validate(data["gold"]))
        except ValidationError as exc:
            raise InputError(f"{source}:{number}: {_problem(exc)}") from None


def load_labelled(path: Path) -> list[Labelled]:
    with open(path, encoding="utf-8") as f:
        return list(parse_lines(f, str(path), with_gold=True))

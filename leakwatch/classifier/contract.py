"""The interface every refusal-classifier engine implements. The shapes it reads and
writes live in `schemas.conversation` (they are part of the public contract)."""

from __future__ import annotations

import abc

from schemas.conversation import ClassificationResult, ConversationInput, EngineInfo


class RefusalClassifier(abc.ABC):
    """An engine. Implementations must return one result per input, in input order."""

    name: str
    version: str

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(name=self.name, version=self.version)

    @abc.abstractmethod
    async def classify(self, items: list[ConversationInput]) -> list[ClassificationResult]:
        """Classify a batch. Must not block the event loop for long (CPU work in a thread)."""

    def warm_up(self) -> None:
        """Load what the first batch would otherwise wait for. Engines with state override it."""
        return None

    async def aclose(self) -> None:  # engines holding connections override this
        return None

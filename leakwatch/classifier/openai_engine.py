"""The LLM engine: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
llama.cpp, gateways).

- Structured output: a JSON schema whose enums are the label sets; a server that rejects
  it (400 naming response_format) or ignores it (reply not JSON) is asked with
  json_object, then in plain text with the first JSON object cut out. The mode that
  works is remembered per instance, so the probing costs one request, once.
- Every reply is validated with the pydantic label models; an invalid one is a failure.
- Bounded retries with exponential backoff on 429/5xx/timeouts, a semaphore bounding
  concurrent requests, an LRU cache keyed by the hash of what was sent.
- An item that still fails is answered by the embedded engine (`fallback_from="openai"`).
- Logs carry ids, status codes and exception types, never conversation text.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random

import openai

from leakwatch.classifier.answer_cache import LRUCache, conversation_key
from schemas.conversation import ClassificationResult, ConversationInput
from leakwatch.domain.refusals import reason_mismatch
from leakwatch.classifier.contract import RefusalClassifier
from leakwatch.classifier.evidence import is_quote, last_client_words
from leakwatch.classifier.facts import derive_facts
from leakwatch.classifier.llm_answer import InvalidAnswer, LLMAnswer, parse_json, validate
from leakwatch.classifier.prompt import (
    PROMPT_VERSION,
    RESPONSE_FORMAT_OBJECT,
    RESPONSE_FORMAT_SCHEMA,
    messages_for,
)

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 8.0
MAX_RETRY_AFTER_S = 30.0


class OutputMode(enum.IntEnum):
    """Ordered from strictest to most lenient; an instance only moves down."""

    JSON_SCHEMA = 0
    JSON_OBJECT = 1
    TEXT = 2

    def request_kwargs(self) -> dict:
        if self is OutputMode.JSON_SCHEMA:
            return {"response_format": RESPONSE_FORMAT_SCHEMA}
        if self is OutputMode.JSON_OBJECT:
            return {"response_format": RESPONSE_FORMAT_OBJECT}
        return {}


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code in (408, 409, 429) or exc.status_code >= 500)


def _rejects_response_format(exc: openai.BadRequestError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in ("response_format", "json_schema", "json_object", "structured output"))


def _request_messages(item: ConversationInput) -> list[dict]:
    return messages_for(item, derive_facts(item.messages))


def _describe(exc: BaseException) -> str:
    # The type and status only: SDK messages may echo the request body.
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" {status}" if status else "")


class _Rejected(Exception):
    """The server refused this output mode's response_format."""

    def __init__(self, mode: OutputMode) -> None:
        self.mode = mode


class OpenAIClassifier(RefusalClassifier):
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        item_deadline_s: float | None = None,  # one item with all its retries; then the fallback
        max_retries: int = 2,
        concurrency: int = 4,
        cache_size: int = 2048,
        backoff_s: float = 0.5,
        temperature: float | None = 0.0,
        fallback: RefusalClassifier | None = None,
        http_client=None,  # an httpx2.AsyncClient, e.g. with a custom transport
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        self.model = model
        self.version = f"{PROMPT_VERSION}+{model}"
        self.max_retries = max_retries
        self.item_deadline_s = item_deadline_s
        self.backoff_s = backoff_s
        self.temperature = temperature
        self.mode = OutputMode.JSON_SCHEMA
        # Retries are ours (logged per id, shared backoff policy), so the SDK makes one attempt.
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers take any key
            timeout=timeout_s,
            max_retries=0,
            http_client=http_client,
        )
        self._semaphore = asyncio.Semaphore(concurrency)
        self._cache: LRUCache[LLMAnswer] = LRUCache(cache_size)
        self._fallback = fallback

    # --- the interface -------------------------------------------------------------------

    async def classify(self, items: list[ConversationInput]) -> list[ClassificationResult]:
        answers = await asyncio.gather(*(self._answer(item) for item in items))
        failed = [item for item, answer in zip(items, answers) if answer is None]
        rescued = iter(await self._fallback_engine().classify(failed)) if failed else iter(())
        return [
            self._result(item, answer)
            if answer is not None
            else next(rescued).model_copy(update={"fallback_from": self.name})
            for item, answer in zip(items, answers)
        ]

    def warm_up(self) -> None:
        """The fallback answers when the LLM fails: have it ready before the first failure."""
        self._fallback_engine().warm_up()

    async def aclose(self) -> None:
        await self._client.close()

    # --- one item -------------------------------------------------------------------------

    async def _answer(self, item: ConversationInput) -> LLMAnswer | None:
        try:
            # Facts are CPU work: a worker thread, overlapping with other items' requests.
            messages = await asyncio.to_thread(_request_messages, item)
            key = conversation_key(self.model, messages)
            cached = self._cache.get(key)
            if cached is not None:
                return cached
            answer = await asyncio.wait_for(self._ask(item.id, messages), self.item_deadline_s)
        except Exception as exc:  # any failure of one item falls back; the batch goes on
            log.warning("openai engine: item %s failed (%s); embedded engine answers", item.id, _describe(exc))
            return None
        self._cache.put(key, answer)
        return answer

    async def _ask(self, item_id: str, messages: list[dict]) -> LLMAnswer:
        while True:
            try:
                mode, completion = await self._complete(item_id, messages)
            except _Rejected as rejected:
                self._downgrade(rejected.mode, item_id, "server rejected response_format")
                continue
            content = completion.choices[0].message.content if completion.choices else None
            data = parse_json(content, lenient=mode is OutputMode.TEXT)
            if data is not None:
                return validate(data)
            if mode is OutputMode.TEXT:
                raise InvalidAnswer("no JSON object in the reply")
            self._downgrade(mode, item_id, "reply was not JSON")

    def _downgrade(self, mode: OutputMode, item_id: str, why: str) -> None:
        lower = OutputMode(mode + 1)
        if lower > self.mode:  # concurrent requests may find out together; move once
            log.info("openai engine: %s (item %s); output mode %s -> %s", why, item_id, mode.name, lower.name)
            self.mode = lower

    async def _complete(self, item_id: str, messages: list[dict]):
        """(mode used, completion). The mode is read once a slot is free, so requests queued
        behind the first probe already use what it found out."""
        extra = {} if self.temperature is None else {"temperature": self.temperature}
        for attempt in range(self.max_retries + 1):
            try:
                async with self._semaphore:
                    mode = self.mode
                    try:
                        return mode, await self._client.chat.completions.create(
                            model=self.model, messages=messages, **mode.request_kwargs(), **extra
                        )
                    except openai.BadRequestError as exc:
                        if mode is not OutputMode.TEXT and _rejects_response_format(exc):
                            raise _Rejected(mode) from None
                        raise
            except openai.APIError as exc:
                if not _retryable(exc) or attempt == self.max_retries:
                    raise
                delay = self._delay(attempt, exc)
                log.info("openai engine: item %s attempt %d: %s; retry in %.2fs",
                         item_id, attempt + 1, _describe(exc), delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    def _delay(self, attempt: int, exc: Exception) -> float:
        response = getattr(exc, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        try:
            if retry_after is not None and 0 <= float(retry_after) <= MAX_RETRY_AFTER_S:
                return float(retry_after)
        except ValueError:
            pass  # an HTTP date: use our own backoff
        # Full jitter keeps a burst of 429s from retrying in lockstep.
        return min(MAX_BACKOFF_S, self.backoff_s * 2**attempt) * random.uniform(0.5, 1.0)

    def _result(self, item: ConversationInput, answer: LLMAnswer) -> ClassificationResult:
        evidence = answer.evidence if is_quote(answer.evidence, item) else last_client_words(item)
        labels = answer.model_dump(exclude={"confidence", "evidence"})
        return ClassificationResult(
            **labels,
            id=item.id,
            deal_id=item.deal_id,
            confidence=answer.confidence,
            evidence=evidence,
            engine=self.info,
            reason_mismatch=reason_mismatch(item.manager_reason, answer.reason),
        )

    def _fallback_engine(self) -> RefusalClassifier:
        if self._fallback is None:
            from leakwatch.classifier.embedded import shared_embedded_classifier

            self._fallback = shared_embedded_classifier()
        return self._fallback

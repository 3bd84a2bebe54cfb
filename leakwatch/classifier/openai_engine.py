"""The LLM engine: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
llama.cpp, gateways).

- Structured output, chosen per request: each request asks for the JSON schema (its enums
  are the label sets); a server that rejects it (400/422/500 naming response_format) or ignores
  it (a reply that is not JSON) is asked again, in the same request, with json_object, then
  in plain text with the first JSON object cut out. What a server could not do may be
  remembered for a bounded time (`format_memory_s`), never for good: after that the next
  request tries json_schema again.
- Every reply is validated with the policy's cross-field rules; an invalid one gets one
  repair turn (the answer and what was wrong with it), then counts as a failure.
- Transport retries are the openai SDK's own (`max_retries`: 408/409/429/5xx and timeouts,
  exponential backoff with jitter, honouring retry-after); `request_timeout_s` bounds each
  HTTP attempt, separate from any batch or per-item deadline of the caller.
- A semaphore bounds concurrent requests; an LRU cache keyed by the conversation's hash, the
  prompt version and the model answers repeats.
- An item that still fails is answered by the embedded engine (`fallback_from="openai"`).
- Logs carry ids, status codes and exception types, never conversation text.
"""

from __future__ import annotations

import asyncio
import enum
import logging

import openai
from cachetools import TTLCache

from leakwatch.classifier.answer_cache import answer_cache, answer_key
from leakwatch.classifier.contract import RefusalClassifier
from leakwatch.classifier.evidence import is_quote, last_client_words
from leakwatch.classifier.facts import derive_facts
from leakwatch.classifier.llm_answer import InvalidAnswer, LLMAnswer, parse_json, validate
from leakwatch.classifier.prompt import (
    PROMPT_VERSION,
    RESPONSE_FORMAT_OBJECT,
    RESPONSE_FORMAT_SCHEMA,
    messages_for,
    repair_messages,
)
from leakwatch.domain.refusals import reason_mismatch
from schemas.conversation import ClassificationResult, ConversationInput

log = logging.getLogger(__name__)

# Words by which OpenAI, vLLM, llama.cpp and gateways name the structured-output parameter
# they refuse.
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output", "grammar")


class OutputMode(enum.IntEnum):
    """Ordered from strictest to most lenient; one request only moves down."""

    JSON_SCHEMA = 0
    JSON_OBJECT = 1
    TEXT = 2

    def request_kwargs(self) -> dict:
        if self is OutputMode.JSON_SCHEMA:
            return {"response_format": RESPONSE_FORMAT_SCHEMA}
        if self is OutputMode.JSON_OBJECT:
            return {"response_format": RESPONSE_FORMAT_OBJECT}
        return {}


def _rejects_response_format(exc: openai.APIStatusError) -> bool:
    # 400 from OpenAI-style servers, 422 from FastAPI-based ones whose request model does not
    # know the format, and 500 from llama-cpp-python 0.3.36, whose error handler wraps that
    # validation error (after the SDK's retries of a 500, which are quick).
    if exc.status_code not in (400, 422, 500):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in _FORMAT_WORDS)


def _describe(exc: BaseException) -> str:
    # The type and status only: SDK messages may echo the request body.
    status = getattr(exc, "status_code", None)
    return f"{type(exc).__name__}" + (f" {status}" if status else "")


class _Rejected(Exception):
    """The server refused this output mode's response_format."""


class OpenAIClassifier(RefusalClassifier):
    name = "openai"

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        request_timeout_s: float = 30.0,
        item_deadline_s: float | None = None,  # one item with all its retries; then the fallback
        max_retries: int = 2,
        concurrency: int = 4,
        cache_size: int = 2048,
        format_memory_s: float = 300.0,
        max_tokens: int | None = None,
        temperature: float | None = 0.0,
        fallback: RefusalClassifier | None = None,
        http_client=None,  # an httpx2.AsyncClient, e.g. with a custom transport
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if format_memory_s < 0:
            raise ValueError("format_memory_s must be >= 0")
        self.model = model
        self.version = f"{PROMPT_VERSION}+{model}"
        self.item_deadline_s = item_deadline_s
        self.temperature = temperature
        self.max_tokens = max_tokens
        self._client = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "not-needed",  # local servers take any key
            timeout=request_timeout_s,
            max_retries=max_retries,
            http_client=http_client,
        )
        self._server = str(self._client.base_url)
        self._semaphore = asyncio.Semaphore(concurrency)
        self._cache = answer_cache(cache_size)
        # server -> the strictest mode it answered lately, when that was not json_schema.
        self._learned: TTLCache | None = TTLCache(maxsize=16, ttl=format_memory_s) if format_memory_s else None
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

    @property
    def start_mode(self) -> OutputMode:
        """The mode the next request starts with: json_schema unless this server failed it
        within the last `format_memory_s`."""
        if self._learned is None:
            return OutputMode.JSON_SCHEMA
        return self._learned.get(self._server, OutputMode.JSON_SCHEMA)

    # --- one item -------------------------------------------------------------------------

    async def _answer(self, item: ConversationInput) -> LLMAnswer | None:
        try:
            # Facts are CPU work: a worker thread, overlapping with other items' requests.
            messages = await asyncio.to_thread(_request_messages, item)
            key = answer_key(self.model, PROMPT_VERSION, messages[-1]["content"])
            cached = self._cache.get(key) if self._cache is not None else None
            if cached is not None:
                return cached
            answer = await asyncio.wait_for(self._ask(item.id, messages), self.item_deadline_s)
        except Exception as exc:  # any failure of one item falls back; the batch goes on
            log.warning("openai engine: item %s failed (%s); embedded engine answers", item.id, _describe(exc))
            return None
        if self._cache is not None:
            self._cache[key] = answer
        return answer

    async def _ask(self, item_id: str, messages: list[dict]) -> LLMAnswer:
        """A valid answer, with at most one repair turn after an invalid one."""
        mode, reply, answer, problems = await self._attempt(item_id, messages, self.start_mode)
        if answer is not None:
            return answer
        log.info("openai engine: item %s answer invalid (%s); asking once more", item_id, problems)
        _, _, answer, problems = await self._attempt(item_id, repair_messages(messages, reply, problems), mode)
        if answer is not None:
            return answer
        raise InvalidAnswer(problems)

    async def _attempt(self, item_id: str, messages: list[dict], mode: OutputMode):
        """(mode that answered, raw reply, answer or None, problems). Walks down the output
        modes within this one request while the server refuses or ignores the format."""
        while True:
            try:
                reply = await self._complete(messages, mode)
            except _Rejected:
                mode = self._downgrade(mode, item_id, "server rejected response_format")
                continue
            data = parse_json(reply, lenient=mode is OutputMode.TEXT)
            if data is None and mode is not OutputMode.TEXT:
                mode = self._downgrade(mode, item_id, "reply was not JSON")
                continue
            if data is None:
                return mode, reply, None, "no JSON object in the reply"
            try:
                return mode, reply, validate(data), ""
            except InvalidAnswer as exc:
                return mode, reply, None, str(exc)

    def _downgrade(self, mode: OutputMode, item_id: str, why: str) -> OutputMode:
        lower = OutputMode(mode + 1)
        log.info("openai engine: %s (item %s); this request goes on with %s", why, item_id, lower.name)
        if self._learned is not None:
            self._learned[self._server] = max(lower, self._learned.get(self._server, OutputMode.JSON_SCHEMA))
        return lower

    async def _complete(self, messages: list[dict], mode: OutputMode) -> str | None:
        extra = {} if self.temperature is None else {"temperature": self.temperature}
        if self.max_tokens is not None:
            extra["max_tokens"] = self.max_tokens
        async with self._semaphore:
            try:
                completion = await self._client.chat.completions.create(
                    model=self.model, messages=messages, **mode.request_kwargs(), **extra
                )
            except openai.APIStatusError as exc:
                if mode is not OutputMode.TEXT and _rejects_response_format(exc):
                    raise _Rejected() from None
                raise
        return completion.choices[0].message.content if completion.choices else None

    def _result(self, item: ConversationInput, answer: LLMAnswer) -> ClassificationResult:
        evidence = answer.evidence if is_quote(answer.evidence, item) else last_client_words(item)
        labels = answer.model_dump(exclude={"confidence", "evidence", "reasoning"})
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


def _request_messages(item: ConversationInput) -> list[dict]:
    return messages_for(item, derive_facts(item.messages, item.events))

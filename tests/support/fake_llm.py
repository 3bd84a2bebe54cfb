"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol with
scripted behaviour: the test double for the LLM edge (integration tests, the speed
benchmark). The client code under test is the real `openai` SDK.

    with FakeLLMServer(behaviour) as server:
        engine = OpenAIClassifier(base_url=server.base_url, model="fake", ...)

A behaviour is a callable `(request_json, call_number) -> Reply`; call numbers start at 1.
Every request body is recorded in `server.requests`.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from tests.support.http_stub import Answer, Received, StubServer


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message; wrapped in a chat.completion
    body: dict | str | None = None  # a raw body instead (errors)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


Behaviour = Callable[[dict, int], Reply]


def completion(content: str, model: str = "fake") -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def error_body(message: str, kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class FakeLLMServer(StubServer):
    def __init__(self, behaviour: Behaviour) -> None:
        super().__init__()
        self.behaviour = behaviour
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._calls = 0

    def answer(self, received: Received) -> Answer:
        request = json.loads(received.body or b"{}")
        with self._lock:
            self._calls += 1
            number = self._calls
            self.requests.append(request)
        reply = self.behaviour(request, number)
        if reply.body is not None:
            payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        else:
            payload = json.dumps(completion(reply.content or "", request.get("model", "fake")))
        return Answer(reply.status, payload.encode(), reply.headers, reply.delay_s)

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def calls(self) -> int:
        return self._calls

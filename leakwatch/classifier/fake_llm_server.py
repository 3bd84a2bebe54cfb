"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol with
scripted behaviour: the test double for the LLM edge (integration tests, the speed
benchmark, demos without a key). The client code under test is the real `openai` SDK.

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


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


class FakeLLMServer:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        self._calls = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length") or 0)
                request = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server._calls += 1
                    number = server._calls
                    server.requests.append(request)
                reply = server.behaviour(request, number)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.body is not None:
                    payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                else:
                    payload = json.dumps(completion(reply.content or "", request.get("model", "fake")))
                data = payload.encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left: that is the point of a slow reply

            def log_message(self, *args) -> None:  # keep test output clean
                return None

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-llm", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def calls(self) -> int:
        return self._calls

    def __enter__(self) -> "FakeLLMServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

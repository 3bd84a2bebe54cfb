"""The one base of the test HTTP servers (Grafana's API, the LLM, the webhook receivers):
a ThreadingHTTPServer on 127.0.0.1 at a random port, served on a daemon thread while used
as a context manager. A subclass says what to answer to each request in `answer`."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str  # as sent, with the query string
    headers: dict
    body: bytes

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # wait this long before answering (a slow vendor)

    @classmethod
    def json(cls, status: int, value: object, **kw) -> "Answer":
        return cls(status, json.dumps(value, ensure_ascii=False).encode(), **kw)


class StubServer:
    def __init__(self) -> None:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                request = Received(self.command, self.path, dict(self.headers), self.rfile.read(length) if length else b"")
                answer = stub.answer(request)
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer.body)))
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(answer.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client timed out and left: that is the point of a slow answer

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True  # a held answer does not block shutdown
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)

    def answer(self, request: Received) -> Answer:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

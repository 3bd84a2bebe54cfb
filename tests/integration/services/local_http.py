"""Test helpers: a recording HTTP server on 127.0.0.1 (stands in for Telegram, Slack, a
webhook receiver and Bitrix24's REST) and a leakwatch service run as its own process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.support.servers import ROOT


@dataclass
class Hit:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class Recorder:
    """Answers each path with a fixed (status, JSON) and records every request."""

    def __init__(self, routes: dict[str, tuple[int, object]]):
        self.routes = routes
        self.hits: list[Hit] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                recorder.hits.append(Hit(self.path, dict(self.headers), body))
                status, answer = recorder.routes.get(path, (404, {"error": "no route"}))
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path.split("?", 1)[0] == path]

    def wait_for(self, path: str, count: int, timeout_s: float = 60.0) -> list[Hit]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.at(path)) >= count:
                return self.at(path)
            time.sleep(0.1)
        raise TimeoutError(f"{path}: {len(self.at(path))} requests, wanted {count}")

    def __enter__(self) -> "Recorder":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Service:
    """`leakwatch <command>` as a separate OS process, as in production."""

    command: str
    env: dict
    port: int
    log_path: Path
    proc: subprocess.Popen | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 90.0) -> "Service":
        log = self.log_path.open("a")
        self.proc = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", self.command, "--port", str(self.port)],
                                     env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.command} did not answer in {timeout_s}s:\n{self.tail()}")

    def stop(self) -> int | None:
        """SIGTERM; uvicorn stops the app, then re-raises the signal (exit status -15)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode if self.proc else None

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

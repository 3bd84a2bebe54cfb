"""Test helpers: a recording HTTP server on 127.0.0.1 (stands in for Telegram, Slack, a
webhook receiver and Bitrix24's REST) and a leakwatch service run as its own process."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.health import NotHealthy, wait_healthy
from tests.support.http_stub import Answer, Received, StubServer
from tests.support.servers import ROOT

Hit = Received


class Recorder(StubServer):
    """Answers each path with a fixed (status, JSON) and records every request. A path in
    `held` is not answered until `release(path)`: a target that hangs mid-delivery."""

    def __init__(self, routes: dict[str, tuple[int, object]], held: set[str] = frozenset()):
        super().__init__()
        self.routes = routes
        self.hits: list[Hit] = []
        self._held = {path: threading.Event() for path in held}

    def answer(self, request: Received) -> Answer:
        self.hits.append(request)
        if (gate := self._held.get(request.route)) is not None:
            gate.wait(120)
        return Answer.json(*self.routes.get(request.route, (404, {"error": "no route"})))

    def release(self, path: str) -> None:
        self._held[path].set()

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.route == path]

    def wait_for(self, path: str, count: int, timeout_s: float = 60.0) -> list[Hit]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if len(self.at(path)) >= count:
                return self.at(path)
            time.sleep(0.1)
        raise TimeoutError(f"{path}: {len(self.at(path))} requests, wanted {count}")

    def __exit__(self, *exc) -> None:
        for gate in self._held.values():
            gate.set()
        super().__exit__(*exc)


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
        try:
            wait_healthy(self.url, self.proc, timeout_s, name=self.command, interval_s=0.2)
        except NotHealthy as exc:
            raise RuntimeError(f"{exc}:\n{self.tail()}") from None
        return self

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, nothing settled or committed on the way out."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

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

"""Waiting for a process we started to answer GET /health with 200: `leakwatch demo` and the
tests' process harnesses (the worker, ingest, the notifier) all wait this way."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable

import httpx


class NotHealthy(RuntimeError):
    pass


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float, *, name: str = "process",
                 interval_s: float = 0.3, on_wait: Callable[[float], None] | None = None) -> float:
    """Seconds it took {url}/health to answer 200; NotHealthy if the process exits or time runs
    out. `on_wait(seconds so far)` is called between polls (a progress line)."""
    started = time.monotonic()
    deadline = started + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotHealthy(f"{name} exited during start ({proc.returncode})")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        if on_wait is not None:
            on_wait(time.monotonic() - started)
        time.sleep(interval_s)
    raise NotHealthy(f"{name} did not answer {url}/health within {timeout_s:g}s")

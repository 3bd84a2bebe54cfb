"""`leakwatch board` as a user runs it: piped `--once` output keeps every label whole, and a
period it cannot read is a one-line error, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.http_stub import Answer, Received, StubServer
from tests.support.servers import ROOT, free_port
from tests.unit.board.test_render import SPEC


class Worker(StubServer):
    def answer(self, request: Received) -> Answer:
        return Answer(200, SPEC.model_dump_json().encode()) if request.route == "/cards" else Answer(404)


def board(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    return subprocess.run([sys.executable, "-m", "leakwatch.cli", "board", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)


def test_once_into_a_pipe_is_not_cut_at_80_columns():
    with Worker() as worker:
        done = board("--once", "--url", worker.url)
    assert done.returncode == 0, done.stderr
    assert "₽612 000 · 18 · 49%" in done.stdout and "Не отправили материалы после звонка" in done.stdout
    assert "…" not in done.stdout and "30 из 47 потерянных клиентов были горячими" in done.stdout


def test_an_unreadable_period_is_a_plain_error():
    done = board("--once", "--from", "yesterday", "--url", "http://127.0.0.1:9")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == ("leakwatch board: --from/--to: 'yesterday' is not a date or time: "
                                   "use ISO 8601 (2026-11-18, 2026-11-18T09:00+03:00) or epoch seconds")


def test_once_without_a_sink_fails_naming_it():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = board("--once", "--url", url)
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"leakwatch board: no answer from the sink at {url} (--url or LEAKWATCH_SINK_URL;")
    assert "воркер" not in done.stderr


class ClosedSink(StubServer):
    def answer(self, request: Received) -> Answer:
        return Answer(401, b'{"error": "needs LEAKWATCH_WEB_TOKEN"}')


def test_once_against_a_closed_sink_names_the_token():
    with ClosedSink() as sink:
        done = board("--once", "--url", sink.url)
    assert done.returncode == 1
    assert done.stderr.strip() == (f"leakwatch board: the sink at {sink.url} answered HTTP 401 "
                                   "(set LEAKWATCH_WEB_TOKEN: it listens beyond loopback)")

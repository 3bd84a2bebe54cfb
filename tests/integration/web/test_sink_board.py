"""The web board as the sink serves it: one app on the sink's store (the real ClickHouse
engine, chdb), the sink's JSON routes and the board's pages side by side, and the sink's
start refusing to serve the board beyond loopback without the token."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from leakwatch.web.auth import is_loopback
from services.simulator import spec_scenario as spec
from services.sink.app import create_app as sink_app
from services.sink.board import web_board
from tests.support.refusal_records import spec_records
from tests.support.servers import ROOT

TOKEN = "sink-board-token"
DAY2 = spec.DAY2.isoformat()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore.open(Settings(chdb_path=tmp_path_factory.mktemp("chdb")))
    s.insert_refusals(spec_records())
    yield s
    s.close()


def served(store, host: str, **settings) -> TestClient:
    s = Settings(chdb_path="unused", **settings)
    board, publisher = web_board(s, store, host)
    assert (publisher is None) == ("web_token" not in settings)
    return TestClient(sink_app(s, store, lambda: {"status": "ok"}, board=board, reads_open=is_loopback(host)))


def test_the_sink_serves_its_reads_and_the_board_from_one_store(store):
    with served(store, "127.0.0.1") as c:
        sink_cards = c.get("/cards", params={"from": DAY2, "to": f"{DAY2}T23:59:59"}).json()["card2"]
        board_cards = c.get("/api/cards", params={"from": DAY2}).json()["card2"]
        assert (sink_cards["leak_rub"], sink_cards["cases"]) == (board_cards["leak_rub"], board_cards["cases"]) == (
            1_248_700, 47)
        page = c.get("/", params={"from": DAY2})
        assert page.status_code == 200 and "₽1 248 700" in page.text
        # The page's own links resolve on the sink: its stylesheet and the live fragments.
        assert 'href="/static/board.css"' in page.text and c.get("/static/board.css").status_code == 200
        assert "₽1 248 700" in c.get("/fragments/cards", params={"from": DAY2}).text
        health = c.get("/health").json()
        assert health["status"] == "ok" and health["store"] == store.kind  # the sink's, not the board's


def test_beyond_loopback_the_board_asks_for_the_token(store):
    with served(store, "0.0.0.0", web_token=TOKEN) as c:
        assert c.get("/api/cards", params={"from": DAY2}).status_code == 401
        assert c.get("/", follow_redirects=False).headers["location"] == "/login"
        authed = c.get("/api/cards", params={"from": DAY2}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert authed.status_code == 200 and authed.json()["card2"]["cases"] == 47


def test_beyond_loopback_the_sinks_reads_ask_for_the_token_too(store):
    period = {"from": DAY2, "to": f"{DAY2}T23:59:59"}
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with served(store, "0.0.0.0", web_token=TOKEN) as c:
        for path, params in (("/cards", period), ("/cases", period), ("/won-means", {"since": "2026-01-01"})):
            refused = c.get(path, params=params)
            assert refused.status_code == 401 and "LEAKWATCH_WEB_TOKEN" in refused.json()["error"], path
            assert c.get(path, params=params, headers={"Authorization": "Bearer wrong"}).status_code == 401, path
            assert c.get(path, params=params, headers=bearer).status_code == 200, path
        assert c.get("/cards", params=period, headers=bearer).json()["card2"]["cases"] == 47
        assert len(c.get("/cases", params=period, headers=bearer).json()) == 47
        assert c.get("/health").status_code == 200 and c.get("/metrics").status_code == 200  # probes stay open
    with served(store, "127.0.0.1", web_token=TOKEN) as c:  # on loopback reads stay open, as the board's
        assert c.get("/cards", params=period).status_code == 200


def test_the_sink_will_not_serve_the_board_beyond_loopback_without_a_token(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LEAKWATCH_WEB_TOKEN"}
    env.update(LEAKWATCH_CHDB_PATH=str(tmp_path / "chdb"), LEAKWATCH_KAFKA_BOOTSTRAP="127.0.0.1:1")
    done = subprocess.run([sys.executable, "-m", "leakwatch.cli", "sink", "--host", "0.0.0.0"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "LEAKWATCH_WEB_TOKEN" in done.stderr and "0.0.0.0" in done.stderr
    assert not (tmp_path / "chdb").exists()  # stopped before it opened the store

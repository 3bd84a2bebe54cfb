"""End to end on real parts: a new installation imports last week's history from a local
amoCRM stand-in, the worker (its own process, embedded ClickHouse) classifies the imported
refusals at their original times, the cards of that week show them, and the reactivation
service lists the clients who may come back."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from schemas.topics import CLASSIFIED, REACTIVATION
from tests.integration.services.kafka_read import read_all
from tests.support.crm_standins import AmoCrmStandIn, AmoData
from tests.support.kafka_io import newest_by_deal
from tests.support.servers import ROOT, WorkerProcess

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
DAY = 86400
TALKS = {  # lead id -> what the client wrote before refusing (sms_in), with the price
    7001: ("Для нас сейчас это дорого, бюджет будет только через полгода. Вернёмся к вопросу тогда.", 150000),
    7002: ("Спасибо, мы уже подписали договор с другой школой, он до 15 марта.", 90000),
    7003: ("Дорого. Не потянем такую сумму.", 60000),
}


def history(now: int) -> AmoData:
    data = AmoData()
    for i, (lead_id, (text, price)) in enumerate(TALKS.items()):
        created = now - (6 - i) * DAY
        data.leads.append({"id": lead_id, "price": price, "responsible_user_id": 938348, "status_id": 143,
                           "pipeline_id": 3104455, "loss_reason_id": None, "created_at": created,
                           "updated_at": created + 7200, "closed_at": created + 5400})
        data.notes += [
            {"id": lead_id * 10 + 1, "entity_id": lead_id, "note_type": "sms_out", "created_at": created + 600,
             "updated_at": created + 600, "params": {"text": "Добрый день! Отправляю программу курса и стоимость."}},
            {"id": lead_id * 10 + 2, "entity_id": lead_id, "note_type": "sms_in", "created_at": created + 3600,
             "updated_at": created + 3600, "params": {"text": text}},
        ]
    return data


def test_imported_history_fills_the_cards_and_the_reactivation_list(kafka, tmp_path):
    now = int(time.time())
    worker = WorkerProcess.configure(kafka, tmp_path, average_check_rub="Основная=40000")
    worker.start(timeout_s=400)  # the embedded classifier loads its model first; slow on a busy machine
    reactivation = None
    try:
        with AmoCrmStandIn(token="amo-token", data=history(now)) as amo:
            env = {**worker.env, "LEAKWATCH_INGEST_AMOCRM_API_URL": amo.url, "LEAKWATCH_INGEST_AMOCRM_API_TOKEN": "amo-token",
                   "LEAKWATCH_IMPORT_STATE_DIR": str(tmp_path / "import"),
                   "LEAKWATCH_INGEST_MAPPING": '{"amocrm": {"pipelines": {"3104455": "Основная"}, '
                                               '"users": {"938348": "Анна Смирнова"}}}'}
            result = subprocess.run([sys.executable, "-m", "leakwatch.cli", "import", "amocrm", "--days", "14",
                                     "--account", "acme"],
                                    env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert result.returncode == 0, result.stderr
        log = (tmp_path / "reactivation.log").open("a")
        reactivation = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "reactivation", "run"], env=env,
                                        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

        start = datetime.fromtimestamp(now - 8 * DAY, timezone.utc).isoformat()
        end = datetime.fromtimestamp(now, timezone.utc).isoformat()
        deadline = time.monotonic() + 240
        while True:
            cards = worker.get("/cards", **{"from": start, "to": end})
            if cards["card1"]["total"] == len(TALKS) or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        assert cards["card1"]["total"] == len(TALKS), worker.tail()
        # Last week's refusals land on last week, not on the day of the import.
        today = worker.get("/cards", **{"from": datetime.fromtimestamp(now - 3600, timezone.utc).isoformat(), "to": end})
        assert today["card1"]["total"] == 0

        classified = newest_by_deal(read_all(kafka.bootstrap, worker.topic_prefix + CLASSIFIED.name))
        for lead_id, (_, price) in TALKS.items():
            record = classified[f"amocrm:acme:{lead_id}"]
            assert record["money_rub"] == price and record["manager"] == "Анна Смирнова"
        assert classified["amocrm:acme:7001"]["reason"] == "Дорого"

        deadline = time.monotonic() + 120
        while True:
            try:
                entries = newest_by_deal(read_all(kafka.bootstrap, worker.topic_prefix + REACTIVATION.name))
            except (KeyError, TimeoutError):
                entries = {}
            if "amocrm:acme:7001" in entries or time.monotonic() > deadline:
                break
            time.sleep(1.0)
        budget = entries["amocrm:acme:7001"]
        lost_on = datetime.fromisoformat(classified["amocrm:acme:7001"]["lost_at"]).astimezone(timezone(timedelta(hours=3))).date()
        assert budget["come_back"] == "Бюджет позже" and budget["money_rub"] == 150000
        assert budget["date_basis"] == "mentioned" and budget["date_phrase"] == "через полгода"
        assert 180 <= (datetime.fromisoformat(budget["recontact_on"]).date() - lost_on).days <= 186
        assert set(entries) <= set(classified)
    finally:
        if reactivation is not None:
            reactivation.terminate()
            reactivation.wait(60)
        worker.stop()

"""`leakwatch reactivation run` as a process on the real broker: refusals in, the «Воронка
отказов» out, recontact tasks in a local amoCRM stand-in; a restart repeats nothing; the
CSV export reads the list back."""

import csv
import io
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime

import pytest

from schemas.topics import CLASSIFIED, REACTIVATION
from services.kafka_out import EventProducer
from tests.integration.services.kafka_read import read_all
from tests.support.crm_standins import AmoCrmStandIn
from tests.support.kafka_io import wait_group_caught_up
from tests.support.refusal_records import refusal
from tests.support.servers import ROOT
from tests.unit.domain.test_reactivation import MSK

pytestmark = pytest.mark.kafka
LOST = datetime(2026, 11, 18, 12, 0, tzinfo=MSK)


def record(deal: str, version: int, reason: str, evidence: str, **kw):
    return refusal(deal, LOST, reason=reason, **kw).model_copy(update={"version": version, "evidence": evidence})


class Process:
    def __init__(self, env: dict, log_path):
        self.env, self.log_path, self.proc = env, log_path, None

    def start(self, *args: str) -> "Process":
        self.proc = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", *args], env=self.env, cwd=ROOT,
                                     stdout=self.log_path.open("a"), stderr=subprocess.STDOUT)
        return self

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_entries(kafka, topic: str, count: int, proc: Process, timeout_s: float = 90.0) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            got = [v for _, v in read_all(kafka.bootstrap, topic)]
        except (KeyError, TimeoutError):
            got = []
        if len(got) >= count:
            return got
        assert proc.proc.poll() is None, proc.tail()
        time.sleep(0.3)
    raise TimeoutError(f"{topic}: {len(got)} entries, wanted {count}\n{proc.tail()}")


def produce(kafka, prefix: str, *records, raw=()):
    producer = EventProducer(kafka.bootstrap, topic_prefix=prefix)
    for r in records:  # as the worker writes them: every field, nulls included
        producer.send_raw(CLASSIFIED.name, r.deal_id.encode(), r.model_dump_json().encode())
    for key, value in raw:
        producer.send_raw(CLASSIFIED.name, key, value)
    producer.flush()


def test_refusals_become_the_list_with_one_crm_task_each(kafka, tmp_path):
    run = uuid.uuid4().hex[:8]
    prefix = f"ra{run}."
    with AmoCrmStandIn(token="amo-secret") as amo:
        amo.fail_next["/api/v4/tasks"] = 1  # the CRM's first answer is an outage: retried
        env = {**os.environ, "LEAKWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap, "LEAKWATCH_TOPIC_PREFIX": prefix,
               "LEAKWATCH_APP_ID": f"ra-{run}", "LEAKWATCH_TOPIC_PARTITIONS": "2",
               "LEAKWATCH_BROKER_SESSION_TIMEOUT_S": "6", "LEAKWATCH_BROKER_HEARTBEAT_INTERVAL_S": "1",
               "LEAKWATCH_REACTIVATION_CRM": "amocrm", "LEAKWATCH_INGEST_AMOCRM_API_URL": amo.url,
               "LEAKWATCH_INGEST_AMOCRM_API_TOKEN": "amo-secret", "LEAKWATCH_REACTIVATION_CRM_BACKOFF_S": "0.05",
               "LEAKWATCH_INGEST_MAPPING": '{"amocrm": {"users": {"938348": "Анна Смирнова"}}}'}
        service = Process(env, tmp_path / "reactivation.log").start("reactivation", "run")
        out = prefix + REACTIVATION.name
        try:
            budget = record("1001", 3, "Дорого", "Сейчас дорого, бюджет будет через полгода", amount=120000)
            produce(kafka, prefix,
                    budget,
                    record("1002", 2, "Выбрал конкурента", "Выбрали других, у них дешевле"),  # not listed
                    record("1003", 2, "Клиент пропал", ""),
                    budget,  # at-least-once upstream: the same version again
                    record("bitrix24:p:7", 2, "Дорого", "дорого"),  # not an amoCRM deal: listed, the task dead-lettered
                    raw=[(b"1009", b'{"deal_id": "1009"}')])
            entries = wait_entries(kafka, out, 3, service)
            by_deal = {e["deal_id"]: e for e in entries}
            assert set(by_deal) == {"1001", "1003", "bitrix24:p:7"} and len(entries) == 3
            assert by_deal["1001"]["come_back"] == "Бюджет позже" and by_deal["1001"]["recontact_on"] == "2027-05-18"
            assert by_deal["1001"]["money_rub"] == 120000 and by_deal["1001"]["crm_task"].startswith("amocrm:")
            assert by_deal["1003"]["recontact_on"] == "2026-12-02" and by_deal["bitrix24:p:7"]["crm_task"] is None
            letters = [v for _, v in read_all(kafka.bootstrap, prefix + "deadletter")]
            assert sorted(v["topic"] for v in letters) == ["refusals.classified", "refusals.reactivation"]
            assert any("is not a deal of amocrm" in v["error"] for v in letters)

            # A newer verdict keeps the deal listed with its task; a retraction withdraws one.
            produce(kafka, prefix, budget.model_copy(update={"version": 5, "status": "confirmed"}),
                    record("1003", 4, "Клиент пропал", "", active=False))
            entries = wait_entries(kafka, out, 5, service)
            newest = {e["deal_id"]: e for e in sorted(entries, key=lambda e: e["version"])}
            assert newest["1001"]["version"] == 5 and newest["1001"]["crm_task"] == by_deal["1001"]["crm_task"]
            assert newest["1003"]["active"] is False and newest["1003"]["recontact_on"] is None
            assert service.stop() == 0, service.tail()

            # Restarted: the list is read back, so a replayed version repeats nothing.
            service.start("reactivation", "run")
            produce(kafka, prefix, budget.model_copy(update={"version": 5}),
                    record("1004", 2, "Не подошли условия", "Давайте после Нового года", amount=90000))
            wait_entries(kafka, out, 6, service)
            time.sleep(2.0)  # anything the replayed version 5 would have added is in by now
            entries = [v for _, v in read_all(kafka.bootstrap, out)]
            assert sorted((e["deal_id"], e["version"]) for e in entries) == [
                ("1001", 3), ("1001", 5), ("1003", 2), ("1003", 4), ("1004", 2), ("bitrix24:p:7", 2)]
            assert wait_group_caught_up(kafka.bootstrap, f"ra-{run}-reactivation", [prefix + CLASSIFIED.name],
                                        timeout_s=30) == 0
        finally:
            if service.proc.poll() is None:
                assert service.stop() == 0, service.tail()
        tasks = [r.body[0] for r in amo.at("/api/v4/tasks")]
        # One task per listed deal with a CRM number, plus the retry of the post that met the outage.
        ids = [t["entity_id"] for t in tasks]
        assert len(ids) == 4 and set(ids) == {1001, 1003, 1004} and ids[0] == ids[1]
        assert {t["responsible_user_id"] for t in tasks} == {938348}
    assert "amo-secret" not in service.log_path.read_text() and "бюджет" not in service.log_path.read_text()

    # The export: deals to recontact in a window, soonest first.
    result = subprocess.run([sys.executable, "-m", "leakwatch.cli", "reactivation", "export",
                             "--from", "2026-12-01", "--to", "2027-06-30"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:3] == ["Сделка", "Связаться", "Почему вернётся"]
    assert [(r[0], r[1]) for r in rows[1:]] == [("1004", "2027-01-12"), ("bitrix24:p:7", "2027-02-18"), ("1001", "2027-05-18")]
    assert rows[3][6] == "120000" and rows[3][13].startswith("amocrm:")

    # --out into a folder that does not exist yet: made, not a traceback.
    out = tmp_path / "lists" / "2026" / "recontact.csv"
    result = subprocess.run([sys.executable, "-m", "leakwatch.cli", "reactivation", "export", "--from", "2026-12-01",
                             "--to", "2027-06-30", "--out", str(out)], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == f"3 deals to recontact -> {out}"
    assert [r[0] for r in csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")))][1:] == [
        "1004", "bitrix24:p:7", "1001"]

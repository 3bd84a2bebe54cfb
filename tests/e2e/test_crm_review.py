"""The QA review from the CRM, end to end on real parts: amoCRM and Bitrix24 webhooks posted
to `leakwatch ingest` (their REST lookups answered by the local vendor stand-ins), the broker,
`leakwatch worker`, and `leakwatch sink` with its ClickHouse. A manager moves each deal to
«Условный отказ» saying «Дорого»; the AI classifies it; then the QA lead moves it to
closed-lost, once leaving the loss reason as it was (the AI's verdict is confirmed) and once
changing it (the reason is corrected). The refusal is reviewed — on refusals.classified, on
the sink's /cards and /cases — and never retracted."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from schemas import topics
from schemas.topics import CLASSIFIED
from services.simulator.scripts import DealPlan, deal_events, load_scripts
from tests.integration.services.local_http import Service
from tests.support.crm_standins import AmoCrmStandIn, AmoData, Bitrix24StandIn, BitrixData
from tests.support.kafka_io import produce, read_topic
from tests.support.servers import WorkerProcess, free_port
from tests.support.vendor_fixtures import FORM
from tests.unit.services.vendor_payloads import amo_form, amo_lead, bitrix_form

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SUB, PORTAL = "leakwatchdemo", "leakwatch.bitrix24.ru"
REVIEW_STATUS, WORKING_STATUS = "61000", "60001"  # amoCRM: «Условный отказ», «Переговоры»
MAPPING = {"amocrm": {"pipelines": {"2116": "Основная"}, "statuses": {REVIEW_STATUS: "Условный отказ",
                                                                     WORKING_STATUS: "Переговоры"},
                      "users": {"938348": "Анна Смирнова", "102525": "Мария (ОКК)"}},
           "bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров", "21": "Ирина (РОП)"},
                        "stages": {"C1:UC_REVIEW": "Условный отказ"}}}
# amoCRM loss-reason names (mapped by the gateway's defaults) and Bitrix24 enum ids
# (LEAKWATCH_CRM_LOSS_REASON_VALUES) for the reasons a QA lead may set instead.
AMO_NAMES = {"Дорого": "Высокая цена", "Поздно связались": "Долго не связывались",
             "Выбрал конкурента": "Ушли к конкурентам", "Нет доверия": "Не доверяет"}
B24_IDS = {"Дорого": "501", "Поздно связались": "502", "Выбрал конкурента": "503", "Нет доверия": "504"}
DAY = datetime(2026, 11, 18, 9, 0, tzinfo=timezone.utc)  # 12:00 in Moscow
INTO_REVIEW, CLOSED = DAY + timedelta(hours=1), DAY + timedelta(hours=3)
SCRIPT = "obj-smm-course-price-chat"  # «дорого» left unanswered: a salvageable refusal

AMO_CONFIRM, AMO_CORRECT, B24_CONFIRM, B24_CORRECT = "31926601", "31926602", "801", "802"
DEALS = {f"amocrm:{SUB}:{AMO_CONFIRM}": "confirm", f"amocrm:{SUB}:{AMO_CORRECT}": "correct",
         f"bitrix24:{PORTAL}:{B24_CONFIRM}": "confirm", f"bitrix24:{PORTAL}:{B24_CORRECT}": "correct"}


def unix(ts: datetime) -> str:
    return str(int(ts.timestamp()))


def b24_deal(deal_id: str, stage: str, moved: datetime, reason_id: str | None, moved_by: str = "17") -> dict:
    deal = {"ID": deal_id, "TITLE": "Курс SMM", "STAGE_ID": stage, "CATEGORY_ID": "1",
            "STAGE_SEMANTIC_ID": "F" if stage.endswith("LOSE") else "P", "OPPORTUNITY": "45000.00",
            "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": "17", "CLOSED": "Y" if stage.endswith("LOSE") else "N",
            "DATE_CREATE": DAY.isoformat(), "DATE_MODIFY": moved.isoformat(), "MOVED_TIME": moved.isoformat(),
            "MOVED_BY_ID": moved_by}
    if reason_id:
        deal["UF_CRM_LOSS_REASON"] = reason_id
    return deal


def amo_lead_answer(lead_id: str, status: str, reason_name: str) -> dict:
    return {"id": int(lead_id), "status_id": int(status), "pipeline_id": 2116, "price": 45000, "loss_reason_id": 1,
            "_embedded": {"loss_reason": [{"id": 1, "name": reason_name}]}}


@pytest.fixture
def stack(kafka, tmp_path):
    amo = AmoCrmStandIn("amo-api-token", AmoData())
    b24 = Bitrix24StandIn(data=BitrixData())
    worker = WorkerProcess.configure(
        kafka, tmp_path, average_check_rub="Основная=40000,b2b=40000", classifier_batch_deadline_s="600",
        crm_loss_reason_field="bitrix24=UF_CRM_LOSS_REASON",
        crm_loss_reason_values=",".join(f"{i}={r}" for r, i in B24_IDS.items()))
    ingest = None
    with amo, b24:
        try:
            worker.start(timeout_s=600)
            env = {**worker.env,
                   "LEAKWATCH_INGEST_AMOCRM_TOKEN": "amo-secret",
                   "LEAKWATCH_INGEST_BITRIX24_APP_TOKEN": "APP_TOKEN",
                   "LEAKWATCH_PHONE_HASH_SALT": "e2e-salt-0123456789abcdef",
                   "LEAKWATCH_INGEST_MAPPING": json.dumps(MAPPING, ensure_ascii=False),
                   "LEAKWATCH_INGEST_AMOCRM_API_URL": amo.url,
                   "LEAKWATCH_INGEST_AMOCRM_API_TOKEN": "amo-api-token",
                   "LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL": b24.webhook}
            ingest = Service("ingest", env, free_port(), tmp_path / "ingest.log").start(timeout_s=300)
            yield worker, ingest, amo, b24
        finally:
            if ingest is not None:
                ingest.stop()
            worker.stop()


def post_amo(ingest: Service, lead: dict, action: str = "status") -> dict:
    r = httpx.post(f"{ingest.url}/v1/webhooks/amocrm?token=amo-secret", content=amo_form((action, [lead]), subdomain=SUB),
                   headers=FORM, timeout=60)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    return r.json()


def post_b24(ingest: Service, deal_id: str, event: str = "ONCRMDEALUPDATE") -> dict:
    form = bitrix_form(event, deal_id=deal_id, application_token="APP_TOKEN")
    r = httpx.post(f"{ingest.url}/v1/webhooks/bitrix24", content=form, headers=FORM, timeout=60)
    assert (r.status_code, r.json()["status"]) == (200, "accepted"), r.text
    return r.json()


def records(kafka, worker) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for _, r in read_topic(kafka.bootstrap, worker.topic_prefix + CLASSIFIED.name, idle_s=2):
        out.setdefault(r["deal_id"], []).append(r)
    return out


def wait_until(check, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def conversation(deal_id: str):
    """The script's calls and messages for this deal; its CRM side comes through the webhooks."""
    [script] = [s for s in load_scripts() if s.name == SCRIPT]
    plan = DealPlan(deal_id=deal_id, pipeline="—", manager="Анна Смирнова", amount_rub=None, lost_at=INTO_REVIEW,
                    script=script)
    return [(spec, e) for spec, e in deal_events(plan) if spec is not topics.DEALS]


def other_reason(*taken: str | None) -> str:
    return next(r for r in ("Поздно связались", "Выбрал конкурента", "Нет доверия") if r not in taken)


def test_moving_the_deal_out_of_the_review_stage_confirms_or_corrects(stack, kafka):
    worker, ingest, amo, b24 = stack
    # The deals are created in the CRM, talked to, then moved to «Условный отказ» saying «Дорого».
    for lead in (AMO_CONFIRM, AMO_CORRECT):
        post_amo(ingest, amo_lead(lead, WORKING_STATUS, date_create=unix(DAY), last_modified=unix(DAY)), action="add")
    for deal in (B24_CONFIRM, B24_CORRECT):
        b24.data.deals.append(b24_deal(deal, "C1:NEW", DAY, None))
        post_b24(ingest, deal, "ONCRMDEALADD")
    produce(kafka.bootstrap, worker.topic_prefix, [item for d in DEALS for item in conversation(d)])
    for lead in (AMO_CONFIRM, AMO_CORRECT):
        amo.data.leads.append(amo_lead_answer(lead, REVIEW_STATUS, AMO_NAMES["Дорого"]))
        post_amo(ingest, amo_lead(lead, REVIEW_STATUS, old_status_id=WORKING_STATUS, last_modified=unix(INTO_REVIEW),
                                  modified_user_id="938348"))
    for deal in (B24_CONFIRM, B24_CORRECT):
        b24.data.deals[:] = [d for d in b24.data.deals if d["ID"] != deal] + [
            b24_deal(deal, "C1:UC_REVIEW", INTO_REVIEW, B24_IDS["Дорого"])]
        post_b24(ingest, deal)
    assert all("loss_reason" in h.query.get("with", "") for h in amo.requests if h.path.startswith("/api/v4/leads/"))

    # The AI's provisional verdict on each: «Условный отказ» awaiting the QA lead.
    def ai_records():
        got = records(kafka, worker)
        ai = {d: rs[-1] for d, rs in got.items() if rs[-1]["source"] == "ai"}
        return ai if set(ai) == set(DEALS) else None

    ai = wait_until(ai_records, 900, "the AI's records")
    for deal_id, r in ai.items():
        assert (r["active"], r["status"], r["manager_reason"]) == (True, "provisional", "Дорого"), r
        # The correction keeps the AI's kind: a salvageable verdict, so the case shows in /cases.
        assert (r["target"], r["kind"]) == (True, "salvageable"), f"the AI's verdict on {SCRIPT} changed: {r}"
    period = {"from": "2026-11-18", "to": "2026-11-19"}
    wait_until(lambda: len(worker.get("/api/review-queue", **period)) == 4, 120, "the review queue on the board")

    # The QA lead closes each deal; for two of them the loss reason is changed on the way.
    expected = {}
    for deal_id, what in DEALS.items():
        r = ai[deal_id]
        reason = r["reason"] if what == "confirm" else other_reason(r["reason"], "Дорого")
        expected[deal_id] = {"target": True, "reason": reason, "kind": r["kind"], "leak": r["leak"], "hot": r["hot"]}
    for lead in (AMO_CONFIRM, AMO_CORRECT):
        deal_id = f"amocrm:{SUB}:{lead}"
        field = "Дорого" if DEALS[deal_id] == "confirm" else expected[deal_id]["reason"]
        amo.data.leads[:] = [l for l in amo.data.leads if str(l["id"]) != lead] + [
            amo_lead_answer(lead, "143", AMO_NAMES[field])]
        post_amo(ingest, amo_lead(lead, "143", old_status_id=REVIEW_STATUS, last_modified=unix(CLOSED),
                                  modified_user_id="102525"))
    for deal in (B24_CONFIRM, B24_CORRECT):
        deal_id = f"bitrix24:{PORTAL}:{deal}"
        field = "Дорого" if DEALS[deal_id] == "confirm" else expected[deal_id]["reason"]
        b24.data.deals[:] = [d for d in b24.data.deals if d["ID"] != deal] + [
            b24_deal(deal, "C1:LOSE", CLOSED, B24_IDS[field], moved_by="21")]
        post_b24(ingest, deal)

    # On the public topic: the QA lead's verdict, the AI's labels beside it, never a retraction.
    def reviewed():
        got = records(kafka, worker)
        return got if all(got[d][-1]["source"] == "review" for d in DEALS) else None

    got = wait_until(reviewed, 300, "the reviewed records")
    reviewers = {"amocrm": "Мария (ОКК)", "bitrix24": "Ирина (РОП)"}
    for deal_id in DEALS:
        newest = got[deal_id][-1]
        labels = {k: newest[k] for k in ("target", "reason", "kind", "leak", "hot")}
        assert labels == expected[deal_id], (deal_id, newest)
        assert (newest["status"], newest["active"], newest["reviewer"]) == \
            ("confirmed", True, reviewers[deal_id.split(":")[0]])
        assert newest["ai"] == {k: ai[deal_id][k] for k in labels}
        assert newest["version"] > ai[deal_id]["version"]
        assert newest["lost_at"] == ai[deal_id]["lost_at"] and newest["manager_reason"] == "Дорого"
        assert newest["reason_mismatch"] == (expected[deal_id]["reason"] != "Дорого")
        assert all(r["active"] for r in got[deal_id]), f"{deal_id} was retracted: {got[deal_id]}"

    # The sink's boards: every case confirmed with the QA lead's reason; the queue is empty.
    def cases():
        rows = {c["deal_id"]: c for c in worker.get("/cases", **period)}
        return rows if all(rows.get(d, {}).get("status") == "confirmed" for d in DEALS) else None

    rows = wait_until(cases, 120, "the sink's cases")
    assert {d: rows[d]["reason"] for d in DEALS} == {d: e["reason"] for d, e in expected.items()}
    card1 = worker.get("/cards", **period)["card1"]
    assert (card1["total"], card1["confirmed"], card1["salvageable"]) == (4, 4, 4)
    assert worker.get("/api/review-queue", **period) == []

"""`leakwatch import` as a process: history from local amoCRM and Bitrix24 stand-ins (and
from an export file) onto the real broker, with original times, in order per deal, within
the vendors' request rates; an interrupted import resumes where it stopped; a re-run adds
no new event id."""

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from tests.integration.services.kafka_read import read_all
from tests.support.crm_standins import AmoCrmStandIn, AmoData, Bitrix24StandIn, BitrixData
from tests.support.servers import ROOT

pytestmark = pytest.mark.kafka
NOW = int(time.time())
DAY = 86400


def run_import(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leakwatch.cli", "import", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def environment(kafka, tmp_path, **settings) -> dict:
    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "LEAKWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap, "LEAKWATCH_TOPIC_PREFIX": f"im{run}.",
           "LEAKWATCH_APP_ID": f"im-{run}", "LEAKWATCH_TOPIC_PARTITIONS": "2",
           "LEAKWATCH_IMPORT_STATE_DIR": str(tmp_path / "import"), "LEAKWATCH_IMPORT_BACKOFF_S": "0.02",
           "LEAKWATCH_IMPORT_MAX_ATTEMPTS": "3"}
    env.update({f"LEAKWATCH_{k.upper()}": v for k, v in settings.items()})
    return env


def topic_events(kafka, env: dict, name: str) -> list[dict]:
    return [v for _, v in read_all(kafka.bootstrap, env["LEAKWATCH_TOPIC_PREFIX"] + name)]


def busiest_second(requests) -> int:
    """The most requests that reached the vendor within any one second."""
    times = sorted(r.at for r in requests)
    return max(sum(1 for t in times[i:] if t - start < 1.0) for i, start in enumerate(times))


def amo_history() -> AmoData:
    data = AmoData()
    for i in range(262):  # two pages of leads at limit=250
        lead_id = 5000 + i
        created = NOW - (25 - i % 20) * DAY
        status = (143, 142, 10216994)[i % 3]
        data.leads.append({"id": lead_id, "name": f"Сделка {i}", "price": 40000 + i, "responsible_user_id": 938348,
                           "status_id": status, "pipeline_id": 3104455, "loss_reason_id": 7656397 if status == 143 else None,
                           "created_at": created, "updated_at": created + 7200,
                           "closed_at": created + 3600 if status in (142, 143) else None, "is_deleted": False,
                           "account_id": 1, "_embedded": {"tags": [], "companies": []}})
        data.events.append({"id": f"ev{i}", "type": "lead_status_changed", "entity_id": lead_id, "entity_type": "lead",
                            "created_by": 938348, "created_at": created + 600, "account_id": 1,
                            "value_before": [{"lead_status": {"id": 1, "pipeline_id": 3104455}}],
                            "value_after": [{"lead_status": {"id": 10216994, "pipeline_id": 3104455}}]})
        if i % 2 == 0:
            data.notes.append({"id": 70000 + i, "entity_id": lead_id, "note_type": "call_out", "created_at": created + 1200,
                               "updated_at": created + 1200, "responsible_user_id": 938348, "created_by": 938348,
                               "params": {"uniq": f"call-{i}", "duration": 120, "source": "Mango",
                                          "link": "https://rec.example/x.mp3", "phone": "+79161234567", "call_status": 4}})
        if i % 4 == 0:
            data.tasks.append({"id": 90000 + i, "entity_id": lead_id, "entity_type": "leads", "task_type_id": 1,
                               "text": "Перезвонить", "created_at": created + 1300, "updated_at": created + 1300,
                               "complete_till": created + 3000, "is_completed": False, "responsible_user_id": 938348})
    stale = NOW - 90 * DAY  # outside the window: not imported
    data.leads.append({"id": 4999, "price": 1, "status_id": 143, "pipeline_id": 3104455, "created_at": stale,
                       "updated_at": stale, "closed_at": stale})
    return data


def test_amocrm_history_resumes_after_an_outage_and_reruns_add_nothing(kafka, tmp_path):
    with AmoCrmStandIn(token="amo-token", data=amo_history()) as amo:
        env = environment(kafka, tmp_path, ingest_amocrm_api_url=amo.url, ingest_amocrm_api_token="amo-token",
                          ingest_mapping='{"amocrm": {"users": {"938348": "Анна Смирнова"}, '
                                         '"loss_reasons": {"7656397": "Дорого"}}}')
        amo.fail_next["/api/v4/leads/notes"] = 3  # every attempt of the first notes page fails
        first = run_import(env, "amocrm", "--days", "30", "--account", "acme")
        assert first.returncode == 1 and "run the same command again to resume" in first.stderr, first.stderr
        lead_pages = len(amo.at("/api/v4/leads"))
        assert lead_pages == 2 and len(amo.at("/api/v4/events")) == 3  # 262 events at 100 a page

        second = run_import(env, "amocrm", "--days", "30", "--account", "acme")
        assert second.returncode == 0, second.stderr
        assert "resuming" in second.stderr
        assert len(amo.at("/api/v4/leads")) == lead_pages  # fetched pages are not fetched again
        assert amo.rate_refusals == 0 and busiest_second(amo.requests) <= 7
        assert all(r.query.get("limit") in ("250", "100") for r in amo.requests)

        deals = topic_events(kafka, env, "crm.deals")
        kinds = Counter(e["type"] for e in deals)
        # 262 created, 88 lost + 87 won (every third), 262 stage moves; the stale lead is outside the window.
        assert kinds == {"created": 262, "lost": 88, "won": 87, "stage_changed": 262}
        lost = {e["deal_id"]: e for e in deals if e["type"] == "lost"}
        # Deal ids as the webhook gateway names them, so history and live events meet.
        assert lost["amocrm:acme:5000"]["lost_reason"] == "Дорого" and lost["amocrm:acme:5000"]["manager"] == "Анна Смирнова"
        original = next(x for x in amo.data.leads if x["id"] == 5000)
        assert datetime.fromisoformat(lost["amocrm:acme:5000"]["ts"]) == datetime.fromtimestamp(original["closed_at"], timezone.utc)
        calls = topic_events(kafka, env, "telephony.calls")
        activities = topic_events(kafka, env, "crm.activities")
        assert len(calls) == 131 and all("phone" not in c and "+7916" not in str(c) for c in calls)
        assert {c["recording_ref"] for c in calls} == {"https://rec.example/x.mp3"}  # for leakwatch transcribe
        assert Counter(a["type"] for a in activities) == {"task_created": 66, "task_overdue": 66}

        # Per deal, in the order the stream folds it: created, the call, the stage, lost.
        order = {}
        for key, value in read_all(kafka.bootstrap, env["LEAKWATCH_TOPIC_PREFIX"] + "crm.deals"):
            order.setdefault(value["deal_id"], []).append(value["type"])
        assert order["amocrm:acme:5000"] == ["created", "stage_changed", "lost"]
        spool = (tmp_path / "import" / "amocrm-acme.spool" / "notes.jsonl").read_text()
        assert "+79161234567" not in spool and "call-0" in spool

        third = run_import(env, "amocrm", "--days", "30", "--account", "acme")  # finished: a new import of the same window
        assert third.returncode == 0, third.stderr
        again = topic_events(kafka, env, "crm.deals")
        assert len(again) == 2 * len(deals) and {e["event_id"] for e in again} == {e["event_id"] for e in deals}


def test_bitrix24_history_joins_calls_to_deals_at_two_requests_a_second(kafka, tmp_path):
    data = BitrixData()
    iso = lambda ts: datetime.fromtimestamp(ts, timezone(timedelta(hours=3))).isoformat()  # noqa: E731
    for i in range(60):  # two answers of 50
        created = NOW - (10 + i % 5) * DAY
        data.deals.append({"ID": str(100 + i), "TITLE": f"Сделка {i}", "STAGE_ID": "C1:LOSE" if i % 2 else "C1:NEW",
                           "STAGE_SEMANTIC_ID": "F" if i % 2 else "P", "CATEGORY_ID": "1", "OPPORTUNITY": "45000.00",
                           "CURRENCY_ID": "RUB", "ASSIGNED_BY_ID": "17", "DATE_CREATE": iso(created),
                           "DATE_MODIFY": iso(created + 7200), "MOVED_TIME": iso(created + 3600) if i % 2 else None})
        data.activities.append({"ID": str(900 + i), "OWNER_ID": str(100 + i), "OWNER_TYPE_ID": "2", "TYPE_ID": "2",
                                "PROVIDER_ID": "VOXIMPLANT_CALL", "CREATED": iso(created + 600),
                                "LAST_UPDATED": iso(created + 600)})
        data.calls.append({"ID": str(i), "CALL_ID": f"externalCall.{i}", "PORTAL_USER_ID": "17", "CALL_TYPE": "1",
                           "CALL_DURATION": "95", "CALL_START_DATE": iso(created + 600), "CALL_FAILED_CODE": "200",
                           "PHONE_NUMBER": "+79161234567", "CRM_ENTITY_TYPE": "CONTACT", "CRM_ENTITY_ID": "5",
                           "CRM_ACTIVITY_ID": str(900 + i)})
    with Bitrix24StandIn(data=data) as b24:
        env = environment(kafka, tmp_path, ingest_bitrix24_webhook_url=b24.webhook,
                          ingest_mapping='{"bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров"}}}')
        result = run_import(env, "bitrix24", "--days", "30", "--account", "Portal.Bitrix24.ru")
        assert result.returncode == 0, result.stderr
        assert b24.rate_refusals == 0 and busiest_second(b24.requests) <= 2
        assert [r.body["start"] for r in b24.at(b24.prefix + "crm.deal.list.json")] == [0, 50]
    deals = topic_events(kafka, env, "crm.deals")
    assert Counter(e["type"] for e in deals) == {"created": 60, "lost": 30}
    assert {e["pipeline"] for e in deals} == {"b2b"} and {e["manager"] for e in deals} == {"Олег Петров"}
    calls = topic_events(kafka, env, "telephony.calls")
    assert sorted(c["deal_id"] for c in calls) == [f"bitrix24:portal.bitrix24.ru:{n}" for n in range(100, 160)]
    assert all(c["status"] == "answered" and c["direction"] == "out" for c in calls)


def test_export_file_import_and_its_dead_letters(kafka, tmp_path):
    env = environment(kafka, tmp_path)
    path = tmp_path / "deals.csv"
    path.write_text("deal_id,created_at,status,closed_at,stage,pipeline,manager,amount_rub,lost_reason,lost_comment\n"
                    "D1,2026-11-18T10:00:00+03:00,lost,2026-11-18T15:00:00+03:00,Переговоры,Основная,Анна,50000,Дорого,\n"
                    "D2,2026-11-18T10:00:00+03:00,won,2026-11-18T12:00:00+03:00,,Основная,Анна,70000,,\n"
                    "D3,yesterday,open,,,,,,,\n", encoding="utf-8")
    result = run_import(env, "file", str(path))
    assert result.returncode == 3, result.stderr  # imported, except the refused row (README: «Importing history»)
    assert result.stderr.splitlines()[0] == ("refused: deals.csv line 4: CSV deal D3: time 'yesterday' is neither "
                                             "unix seconds nor ISO 8601")
    assert "1 items refused (listed above, sent to deadletter)" in result.stderr
    deals = topic_events(kafka, env, "crm.deals")
    assert sorted((e["deal_id"], e["type"], e["ts"]) for e in deals) == [
        ("D1", "created", "2026-11-18T10:00:00+03:00"), ("D1", "lost", "2026-11-18T15:00:00+03:00"),
        ("D2", "created", "2026-11-18T10:00:00+03:00"), ("D2", "won", "2026-11-18T12:00:00+03:00")]
    [letter] = topic_events(kafka, env, "deadletter")
    assert letter["topic"].startswith("import:file:") and "yesterday" in letter["error"] + letter["payload"]

"""The recontact task writers against local stand-ins of amoCRM's and Bitrix24's REST APIs."""

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from schemas.reactivation import ReactivationEntry
from services.reactivation.crm_tasks import AmoCrmTasks, Bitrix24Tasks, TaskRejected, create_with_retries
from tests.support.crm_standins import AmoCrmStandIn, Bitrix24StandIn

MSK = ZoneInfo("Europe/Moscow")


def entry(**kw) -> ReactivationEntry:
    base = dict(deal_id="amocrm:acme:31926520", version=3, active=True, status="confirmed",
                lost_at=datetime(2026, 11, 18, 9, tzinfo=timezone.utc), decided_at=datetime(2026, 11, 18, 9, 5, tzinfo=timezone.utc),
                pipeline="Основная", manager="Анна Смирнова", reason="Дорого", kind="real", come_back="Бюджет позже",
                recontact_on=date(2027, 5, 18), date_basis="mentioned", date_phrase="через полгода",
                amount_rub=120000, money_rub=120000, evidence="Бюджет будет через полгода")
    return ReactivationEntry(**{**base, **kw})


def test_amocrm_task_is_created_on_the_lead_with_the_documented_body():
    with AmoCrmStandIn(token="amo-token") as amo, httpx.Client(timeout=5) as client:
        writer = AmoCrmTasks(amo.url, "amo-token", client, MSK, users={"Анна Смирнова": 938348})
        first, second = writer.create(entry()), writer.create(entry(deal_id="amocrm:acme:31926521", manager="amocrm-user:555"))
        [req1], [_, req2] = amo.at("/api/v4/tasks")[:1], amo.at("/api/v4/tasks")
    assert first == "amocrm:4745252" and second == "amocrm:4745253"
    [task] = req1.body
    assert task["entity_id"] == 31926520 and task["entity_type"] == "leads" and task["task_type_id"] == 1
    assert task["responsible_user_id"] == 938348 and task["request_id"] == "amocrm:acme:31926520@3"
    # 23:59 Moscow time on the recontact day: amoCRM shows it as «Весь день».
    assert datetime.fromtimestamp(task["complete_till"], MSK) == datetime(2027, 5, 18, 23, 59, tzinfo=MSK)
    assert task["text"].startswith("Воронка отказов: связаться снова — Бюджет позже.")
    assert req2.body[0]["responsible_user_id"] == 555  # an unmapped user keeps ingest's `amocrm-user:<id>`


def test_amocrm_outage_is_retried_and_a_bad_token_is_not():
    with AmoCrmStandIn(token="amo-token") as amo, httpx.Client(timeout=5) as client:
        amo.fail_next["/api/v4/tasks"] = 2
        sleeps = []
        task, error = create_with_retries(AmoCrmTasks(amo.url, "amo-token", client, MSK), entry(),
                                          attempts=3, backoff_s=0.01, sleep=sleeps.append)
        assert (task, error, len(amo.at("/api/v4/tasks")), sleeps) == ("amocrm:4745252", None, 3, [0.01, 0.02])
        task, error = create_with_retries(AmoCrmTasks(amo.url, "wrong", client, MSK), entry(),
                                          attempts=3, backoff_s=0.01, sleep=sleeps.append)
        assert task is None and "HTTP 401" in error and len(amo.at("/api/v4/tasks")) == 4
        with pytest.raises(TaskRejected, match="is not a deal of amocrm"):
            AmoCrmTasks(amo.url, "amo-token", client, MSK).create(entry(deal_id="bitrix24:portal:31926520"))


def test_bitrix24_task_is_bound_to_the_deal():
    with Bitrix24StandIn() as b24, httpx.Client(timeout=5) as client:
        writer = Bitrix24Tasks(b24.webhook, client, MSK, users={"Анна Смирнова": 17})
        assert writer.create(entry(deal_id="bitrix24:portal.bitrix24.ru:31926520")) == "bitrix24:813"
        [req] = b24.at(b24.prefix + "tasks.task.add.json")
        fields = req.body["fields"]
        assert fields["UF_CRM_TASK"] == ["D_31926520"] and fields["RESPONSIBLE_ID"] == 17
        assert datetime.fromisoformat(fields["DEADLINE"]) == datetime(2027, 5, 18, 18, tzinfo=MSK)
        with pytest.raises(TaskRejected, match="no Bitrix24 user"):
            writer.create(entry(deal_id="bitrix24:p:1", manager="Кто-то"))
        # The portal's own refusal is passed on, not retried.
        with pytest.raises(TaskRejected, match="INVALID_CREDENTIALS|HTTP 401"):
            Bitrix24Tasks(b24.url + "/rest/1/wrong/", client, MSK, default_user=1).create(entry(deal_id="bitrix24:p:1"))

"""The recontact task in the CRM, one per deal that goes on the «Воронка отказов».

amoCRM: `POST /api/v4/tasks` with a JSON array of tasks (task_type_id, text, complete_till
as unix seconds, entity_id + entity_type "leads", responsible_user_id); the answer lists the
created ids under `_embedded.tasks`. A complete_till at 23:59 shows as «Весь день».
Bitrix24: `tasks.task.add` on an inbound webhook, `{"fields": {TITLE, DESCRIPTION,
RESPONSIBLE_ID, DEADLINE, UF_CRM_TASK: ["D_<deal id>"]}}`, answered `{"result": {"task":
{"id": ...}}}`; errors come as `{"error", "error_description"}`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, time as clock
from typing import Protocol
from zoneinfo import ZoneInfo

import httpx

from leakwatch.domain.reactivation import task_text
from leakwatch.settings import Settings
from schemas.reactivation import ReactivationEntry

log = logging.getLogger("leakwatch.reactivation")


class TaskRejected(RuntimeError):
    """The CRM will not take this task as it is: retrying cannot help (dead-letter it)."""


class TaskFailed(RuntimeError):
    """A failure worth retrying: the CRM is down, slow or rate-limiting."""


class TaskWriter(Protocol):
    name: str

    def create(self, entry: ReactivationEntry) -> str:
        """The created task's reference (`amocrm:4745251`); raises TaskRejected or TaskFailed."""


def user_ids(settings: Settings, vendor: str) -> dict[str, int]:
    """Manager name -> CRM user id, from the same mapping ingest names users with."""
    users = settings.ingest_mapping.get(vendor, {}).get("users", {})
    return {name: int(uid) for uid, name in users.items() if str(uid).isdigit()}


def responsible_for(manager: str, vendor: str, names: dict[str, int], default: int | None) -> int | None:
    if manager in names:
        return names[manager]
    prefix, _, uid = manager.partition(":")  # ingest keeps `amocrm-user:938348` for unmapped ids
    if prefix == f"{vendor}-user" and uid.isdigit():
        return int(uid)
    return default


def _classify(response: httpx.Response, what: str) -> None:
    if response.status_code == 429 or response.status_code >= 500:
        raise TaskFailed(f"{what}: HTTP {response.status_code}")
    if response.status_code >= 400:
        raise TaskRejected(f"{what}: HTTP {response.status_code} {response.text[:300]}")


def _deal_number(entry: ReactivationEntry, vendor: str) -> int:
    """The CRM's own deal number: ingest names deals `<vendor>:<account>:<number>`."""
    prefix, _, number = entry.deal_id.rpartition(":")
    if not number.isdigit() or (prefix and not prefix.startswith(f"{vendor}:")):
        raise TaskRejected(f"deal id {entry.deal_id!r} is not a deal of {vendor}")
    return int(number)


class AmoCrmTasks:
    name = "amocrm"

    def __init__(self, base_url: str, token: str, client: httpx.Client, tz: ZoneInfo, *, task_type_id: int = 1,
                 users: dict[str, int] | None = None, default_user: int | None = None):
        self._url = base_url.rstrip("/") + "/api/v4/tasks"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._client, self._tz, self._type = client, tz, task_type_id
        self._users, self._default = users or {}, default_user

    def body(self, entry: ReactivationEntry) -> list[dict]:
        due = datetime.combine(entry.recontact_on, clock(23, 59), self._tz)  # «Весь день»
        task = {"task_type_id": self._type, "text": task_text(entry), "complete_till": int(due.timestamp()),
                "entity_id": _deal_number(entry, self.name), "entity_type": "leads",
                "request_id": f"{entry.deal_id}@{entry.version}"}
        user = responsible_for(entry.manager, self.name, self._users, self._default)
        if user is not None:
            task["responsible_user_id"] = user
        return [task]

    def create(self, entry: ReactivationEntry) -> str:
        body = self.body(entry)
        try:
            response = self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise TaskFailed(f"amoCRM POST /api/v4/tasks: {type(exc).__name__}") from None
        _classify(response, "amoCRM POST /api/v4/tasks")
        try:
            task_id = response.json()["_embedded"]["tasks"][0]["id"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise TaskRejected(f"amoCRM POST /api/v4/tasks: no task id in the answer {response.text[:200]}") from None
        return f"amocrm:{task_id}"


class Bitrix24Tasks:
    name = "bitrix24"

    def __init__(self, rest_url: str, client: httpx.Client, tz: ZoneInfo, *, users: dict[str, int] | None = None,
                 default_user: int | None = None):
        self._url = rest_url.rstrip("/") + "/tasks.task.add.json"
        self._client, self._tz = client, tz
        self._users, self._default = users or {}, default_user

    def body(self, entry: ReactivationEntry) -> dict:
        user = responsible_for(entry.manager, self.name, self._users, self._default)
        if user is None:
            raise TaskRejected(f"no Bitrix24 user for manager of deal {entry.deal_id}: map it in "
                               "LEAKWATCH_INGEST_MAPPING bitrix24.users or set LEAKWATCH_REACTIVATION_DEFAULT_USER_ID")
        deadline = datetime.combine(entry.recontact_on, clock(18, 0), self._tz)
        return {"fields": {"TITLE": f"Связаться снова: {entry.come_back}", "DESCRIPTION": task_text(entry),
                           "RESPONSIBLE_ID": user, "DEADLINE": deadline.isoformat(),
                           "UF_CRM_TASK": [f"D_{_deal_number(entry, self.name)}"]}}

    def create(self, entry: ReactivationEntry) -> str:
        body = self.body(entry)
        try:
            response = self._client.post(self._url, json=body)
        except httpx.HTTPError as exc:
            raise TaskFailed(f"Bitrix24 tasks.task.add: {type(exc).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("error") == "QUERY_LIMIT_EXCEEDED":
            raise TaskFailed("Bitrix24 tasks.task.add: QUERY_LIMIT_EXCEEDED")
        _classify(response, "Bitrix24 tasks.task.add")
        try:
            return f"bitrix24:{answer['result']['task']['id']}"
        except (KeyError, TypeError):
            error = answer.get("error_description") or answer.get("error") if isinstance(answer, dict) else None
            raise TaskRejected(f"Bitrix24 tasks.task.add: {error or 'no task id in the answer'}") from None


def writer_from_settings(settings: Settings, client: httpx.Client) -> TaskWriter | None:
    if settings.reactivation_crm == "amocrm":
        return AmoCrmTasks(settings.ingest_amocrm_api_url, settings.ingest_amocrm_api_token.get_secret_value(),
                           client, settings.tz,
                           task_type_id=settings.reactivation_task_type_id, users=user_ids(settings, "amocrm"),
                           default_user=settings.reactivation_default_user_id)
    if settings.reactivation_crm == "bitrix24":
        return Bitrix24Tasks(settings.ingest_bitrix24_webhook_url.get_secret_value(), client, settings.tz,
                             users=user_ids(settings, "bitrix24"), default_user=settings.reactivation_default_user_id)
    return None


def create_with_retries(writer: TaskWriter, entry: ReactivationEntry, *, attempts: int, backoff_s: float,
                        sleep: Callable[[float], None] = time.sleep) -> tuple[str | None, str | None]:
    """(task reference, None) or (None, why it failed for good)."""
    for attempt in range(1, attempts + 1):
        try:
            return writer.create(entry), None
        except TaskRejected as exc:
            return None, str(exc)
        except TaskFailed as exc:
            if attempt == attempts:
                return None, f"{exc} (after {attempts} attempts)"
            log.warning("deal %s: %s; retrying", entry.deal_id, exc)
            sleep(min(30.0, backoff_s * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")

"""Paging through amoCRM's and Bitrix24's REST lists, at the vendor's request rate, with
retries for outages and rate-limit answers. Each stream is fetched one page at a time from a
page token (amoCRM: `page`; Bitrix24: `start`), which is what the checkpoint remembers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

log = logging.getLogger("leakwatch.import")


class ImportFailed(RuntimeError):
    """The vendor would not answer (after retries) or refused the credentials."""


class RateLimiter:
    """At most `rps` request starts per second, evenly spaced (no bursts the vendor would refuse),
    with a 5% margin so network jitter never lands rps + 1 requests within one of the vendor's seconds."""

    MARGIN = 1.05

    def __init__(self, rps: float, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self._interval, self._clock, self._sleep = self.MARGIN / rps, clock, sleep
        self._next = 0.0

    def wait(self) -> None:
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval


@dataclass
class Page:
    items: list[dict]
    next_token: int | None
    total: int | None = None


class VendorClient:
    def __init__(self, client: httpx.Client, limiter: RateLimiter, *, attempts: int = 6, backoff_s: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep):
        self._client, self._limiter = client, limiter
        self._attempts, self._backoff, self._sleep = attempts, backoff_s, sleep

    def request(self, method: str, url: str, what: str, **kw) -> httpx.Response:
        for attempt in range(1, self._attempts + 1):
            self._limiter.wait()
            try:
                response = self._client.request(method, url, **kw)
            except httpx.HTTPError as exc:
                problem = type(exc).__name__
            else:
                if response.status_code in (401, 403):
                    raise ImportFailed(f"{what}: HTTP {response.status_code}: the credentials were refused")
                if response.status_code == 429 or response.status_code >= 500:
                    problem = f"HTTP {response.status_code}"
                elif response.status_code >= 400:
                    raise ImportFailed(f"{what}: HTTP {response.status_code} {response.text[:200]}")
                else:
                    return response
            if attempt == self._attempts:
                raise ImportFailed(f"{what}: {problem} after {attempt} attempts")
            log.warning("%s: %s; retrying", what, problem)
            self._sleep(min(30.0, self._backoff * 2 ** (attempt - 1)))
        raise AssertionError("unreachable")


class AmoCrmApi:
    """GET lists of API v4: `page`/`limit` (250 at most; events 100), 204 past the end."""

    STREAMS = {
        "leads": ("/api/v4/leads", "leads", 250, "filter[updated_at][from]", {"with": "loss_reason"}),
        "events": ("/api/v4/events", "events", 100, "filter[created_at][from]", {"filter[type]": "lead_status_changed"}),
        "notes": ("/api/v4/leads/notes", "notes", 250, "filter[updated_at][from]", {}),
        "tasks": ("/api/v4/tasks", "tasks", 250, "filter[updated_at][from]", {"filter[entity_type]": "leads"}),
    }
    ORDER = ("leads", "events", "notes", "tasks")

    def __init__(self, base_url: str, token: str, vendor: VendorClient):
        self._base, self._vendor = base_url.rstrip("/"), vendor
        self._headers = {"Authorization": f"Bearer {token}"}

    def first_token(self, stream: str) -> int:
        return 1

    def page(self, stream: str, token: int, since: datetime) -> Page:
        path, entity, limit, since_param, extra = self.STREAMS[stream]
        params = {**extra, since_param: int(since.timestamp()), "page": token, "limit": limit}
        response = self._vendor.request("GET", self._base + path, f"amoCRM GET {path} page {token}",
                                        params=params, headers=self._headers)
        if response.status_code == 204 or not response.content:
            return Page([], None)
        answer = response.json()
        items = (answer.get("_embedded") or {}).get(entity) or []
        more = bool((answer.get("_links") or {}).get("next")) and bool(items)
        return Page(items, token + 1 if more else None)


class Bitrix24Api:
    """Lists on an inbound webhook, 50 per answer from `start`; `next` is the following start."""

    STREAMS = {
        "deals": ("crm.deal.list", lambda since: {"filter": {">=DATE_MODIFY": since}, "select": ["*"],
                                                  "order": {"ID": "ASC"}}),
        "activities": ("crm.activity.list", lambda since: {"filter": {"OWNER_TYPE_ID": 2, ">=LAST_UPDATED": since},
                                                           "select": ["*"], "order": {"ID": "ASC"}}),
        "calls": ("voximplant.statistic.get", lambda since: {"FILTER": {">=CALL_START_DATE": since},
                                                             "SORT": "CALL_START_DATE", "ORDER": "ASC"}),
    }
    ORDER = ("deals", "activities", "calls")

    def __init__(self, webhook_url: str, vendor: VendorClient):
        self._base, self._vendor = webhook_url.rstrip("/") + "/", vendor

    def first_token(self, stream: str) -> int:
        return 0

    def page(self, stream: str, token: int, since: datetime) -> Page:
        method, body = self.STREAMS[stream]
        response = self._vendor.request("POST", f"{self._base}{method}.json", f"Bitrix24 {method} start {token}",
                                        json={**body(since.isoformat()), "start": token})
        answer = response.json()
        if isinstance(answer, dict) and answer.get("error"):
            raise ImportFailed(f"Bitrix24 {method}: {answer.get('error')} {answer.get('error_description', '')}")
        items = answer.get("result") or []
        return Page(items, answer.get("next"), answer.get("total"))

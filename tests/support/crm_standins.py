"""Local stand-ins for the amoCRM and Bitrix24 REST APIs, answering as their documentation
shows: the paths, paging, auth and error shapes the importer and the task writer rely on.

amoCRM (developers/content/crm_platform/*-api): `Authorization: Bearer`; lists are
`{"_page", "_links": {"self", "next"}, "_embedded": {"<entity>": [...]}}` with `page` and
`limit` (at most 250), `204 No Content` past the last page; `GET /api/v4/leads/{id}` answers
one lead (its `_embedded.loss_reason` only `?with=loss_reason`), 204 for an unknown id;
`POST /api/v4/tasks` takes an
array and answers the new ids under `_embedded.tasks`; more than 7 requests a second get 429.
Bitrix24 (inbound webhook `/rest/<user>/<key>/<method>.json`): lists answer `{"result": [...],
"next": <start>, "total": n}` 50 at a time from `start`; `crm.deal.get?id=` answers `{"result":
{...}}` (every user field too), `400 {"error": "NOT_FOUND"}` for an unknown id; over the rate limit `503
{"error": "QUERY_LIMIT_EXCEEDED"}`; `tasks.task.add` answers `{"result": {"task": {...}}}`.
Both record every request and count rate-limit refusals, so tests can assert the clients
kept to the limits.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: object
    at: float


class _StandIn:
    rate_per_s: float = 7.0

    def __init__(self):
        self.requests: list[Request] = []
        self.rate_refusals = 0
        self.fail_next: dict[str, int] = {}  # path -> how many next requests answer 503
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                req = Request(self.command, parts.path, dict(parse_qsl(parts.query)), dict(self.headers), body,
                              time.monotonic())
                status, answer = standin._handle(req)
                data = b"" if answer is None else json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                if answer is not None:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _over_rate(self, now: float) -> bool:
        # A sliding one-second window (a little under, so a client exactly at the limit passes).
        with self._lock:
            while self._recent and now - self._recent[0] > 0.95:
                self._recent.popleft()
            if len(self._recent) >= self.rate_per_s:
                self.rate_refusals += 1
                return True
            self._recent.append(now)
            return False

    def _handle(self, req: Request) -> tuple[int, object]:
        raise NotImplementedError

    def at(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()


def _page(items: list, query: dict) -> tuple[list, int, int]:
    page = int(query.get("page", 1))
    limit = min(int(query.get("limit", 50)), 250)
    return items[(page - 1) * limit: page * limit], page, limit


@dataclass
class AmoData:
    leads: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)


class AmoCrmStandIn(_StandIn):
    rate_per_s = 7.0
    LISTS = {"/api/v4/leads": ("leads", "updated_at"), "/api/v4/events": ("events", "created_at"),
             "/api/v4/leads/notes": ("notes", "updated_at"), "/api/v4/tasks": ("tasks", "updated_at")}

    def __init__(self, token: str, data: AmoData | None = None):
        super().__init__()
        self.token = token
        self.data = data or AmoData()
        self._next_task = 4745251

    def _handle(self, req: Request) -> tuple[int, object]:
        self.requests.append(req)
        if self._over_rate(req.at):
            return 429, {"title": "Too Many Requests", "status": 429}
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"title": "Unauthorized", "type": "https://httpstatus.es/401", "status": 401,
                         "detail": "Invalid access token"}
        if self.fail_next.get(req.path):
            self.fail_next[req.path] -= 1
            return 503, {"title": "Service Unavailable", "status": 503}
        if req.method == "POST" and req.path == "/api/v4/tasks":
            return self._add_tasks(req)
        if req.method == "GET" and req.path in self.LISTS:
            return self._list(req)
        if req.method == "GET" and req.path.startswith("/api/v4/leads/") and req.path.rsplit("/", 1)[1].isdigit():
            return self._lead(req)
        return 404, {"title": "Not Found", "status": 404}

    def _lead(self, req: Request) -> tuple[int, object]:
        lead_id = int(req.path.rsplit("/", 1)[1])
        lead = next((dict(lead) for lead in self.data.leads if int(lead["id"]) == lead_id), None)
        if lead is None:
            return 204, None
        embedded = dict(lead.get("_embedded") or {})
        if "loss_reason" not in req.query.get("with", "").split(","):
            embedded.pop("loss_reason", None)
        return 200, {**lead, "_embedded": embedded}

    def _list(self, req: Request) -> tuple[int, object]:
        entity, time_field = self.LISTS[req.path]
        items = getattr(self.data, entity)
        since = req.query.get(f"filter[{time_field}][from]")
        if since is not None:
            items = [i for i in items if i[time_field] >= int(since)]
        if entity == "events" and "filter[type]" in req.query:
            items = [i for i in items if i["type"] in req.query["filter[type]"].split(",")]
        if entity == "tasks" and "filter[entity_type]" in req.query:
            items = [i for i in items if i["entity_type"] == req.query["filter[entity_type]"]]
        chunk, page, limit = _page(items, req.query)
        if not chunk:
            return 204, None
        base = f"{self.url}{req.path}"
        links = {"self": {"href": f"{base}?page={page}&limit={limit}"}}
        if page * limit < len(items):
            links["next"] = {"href": f"{base}?page={page + 1}&limit={limit}"}
        return 200, {"_page": page, "_links": links, "_embedded": {entity: chunk}}

    def _add_tasks(self, req: Request) -> tuple[int, object]:
        tasks = req.body if isinstance(req.body, list) else None
        errors = []
        for i, task in enumerate(tasks or [{}]):
            problems = []
            if not isinstance(task.get("text"), str) or not task.get("text"):
                problems.append({"code": "NotBlank", "path": "text", "detail": "This value should not be blank."})
            if not isinstance(task.get("complete_till"), int):
                problems.append({"code": "InvalidType", "path": "complete_till", "detail": "This value should be of type int."})
            if "entity_id" in task and task.get("entity_type") not in ("leads", "contacts", "companies", "customers"):
                problems.append({"code": "NotSupportedChoice", "path": "entity_type",
                                 "detail": "The value you selected is not a valid choice."})
            if problems:
                errors.append({"request_id": str(task.get("request_id", i)), "errors": problems})
        if tasks is None or errors:
            return 400, {"validation-errors": errors, "title": "Bad Request", "type": "https://httpstatus.es/400",
                         "status": 400, "detail": "Request validation failed"}
        created = []
        for i, task in enumerate(tasks):
            self._next_task += 1
            created.append({"id": self._next_task, "request_id": str(task.get("request_id", i)),
                            "_links": {"self": {"href": f"{self.url}/api/v4/tasks/{self._next_task}"}}})
        return 200, {"_links": {"self": {"href": f"{self.url}/api/v4/tasks"}}, "_embedded": {"tasks": created}}


@dataclass
class BitrixData:
    deals: list[dict] = field(default_factory=list)
    activities: list[dict] = field(default_factory=list)
    calls: list[dict] = field(default_factory=list)


class Bitrix24StandIn(_StandIn):
    rate_per_s = 2.0
    PAGE = 50

    def __init__(self, user: str = "1", key: str = "k3y", data: BitrixData | None = None):
        super().__init__()
        self.prefix = f"/rest/{user}/{key}/"
        self.data = data or BitrixData()
        self._next_task = 812

    @property
    def webhook(self) -> str:
        return self.url + self.prefix

    def _handle(self, req: Request) -> tuple[int, object]:
        self.requests.append(req)
        if self._over_rate(req.at):
            return 503, {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
        if not req.path.startswith(self.prefix):
            return 401, {"error": "INVALID_CREDENTIALS", "error_description": "Invalid request credentials"}
        method = req.path[len(self.prefix):].removesuffix(".json")
        if self.fail_next.get(method):
            self.fail_next[method] -= 1
            return 503, {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
        body = req.body if isinstance(req.body, dict) else {}
        if method == "tasks.task.add":
            return self._add_task(body)
        if method == "crm.deal.get":
            wanted = str(req.query.get("id") or body.get("id") or body.get("ID") or "")
            deal = next((d for d in self.data.deals if str(d["ID"]) == wanted), None)
            if deal is None:
                return 400, {"error": "NOT_FOUND", "error_description": "Not found"}
            return 200, {"result": deal, "time": {"start": time.time(), "duration": 0.01}}
        lists = {"crm.deal.list": (self.data.deals, "filter", ">=DATE_MODIFY", "DATE_MODIFY"),
                 "crm.activity.list": (self.data.activities, "filter", ">=LAST_UPDATED", "LAST_UPDATED"),
                 "voximplant.statistic.get": (self.data.calls, "FILTER", ">=CALL_START_DATE", "CALL_START_DATE")}
        if method not in lists:
            return 404, {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
        items, filter_key, op, time_field = lists[method]
        since = (body.get(filter_key) or {}).get(op)
        if since:
            from datetime import datetime
            items = [i for i in items if datetime.fromisoformat(i[time_field]) >= datetime.fromisoformat(since)]
        start = int(body.get("start") or 0)
        chunk = items[start:start + self.PAGE]
        answer = {"result": chunk, "total": len(items), "time": {"start": time.time(), "duration": 0.01}}
        if start + self.PAGE < len(items):
            answer["next"] = start + self.PAGE
        return 200, answer

    def _add_task(self, body: dict) -> tuple[int, object]:
        fields = body.get("fields") or {}
        if not fields.get("TITLE"):
            return 400, {"error": "ERROR_CORE", "error_description": "Не указано название задачи"}
        if not fields.get("RESPONSIBLE_ID"):
            return 400, {"error": "ERROR_CORE", "error_description": "Не указан ответственный"}
        self._next_task += 1
        return 200, {"result": {"task": {"id": str(self._next_task), "title": fields["TITLE"],
                                         "responsibleId": str(fields["RESPONSIBLE_ID"]),
                                         "deadline": fields.get("DEADLINE"), "ufCrmTask": fields.get("UF_CRM_TASK", [])}},
                     "time": {"start": time.time(), "duration": 0.02}}

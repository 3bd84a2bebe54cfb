"""A small stand-in for Grafana's HTTP API on 127.0.0.1 (a random port), keeping folders,
data sources, dashboards and alert rules in memory the way Grafana answers for them, and
recording every request. Only the endpoints `leakwatch grafana push` uses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from tests.support.http_stub import Answer, Received, StubServer

RULE = re.compile(r"^/api/v1/provisioning/alert-rules/(?P<uid>[^/]+)$")


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: object


@dataclass(eq=False)
class FakeGrafana(StubServer):
    token: str
    datasources: list[dict] = field(default_factory=list)
    folders: list[dict] = field(default_factory=list)
    dashboards: dict[str, dict] = field(default_factory=dict)  # uid -> {"dashboard", "folderUid", "version"}
    rules: dict[str, dict] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        StubServer.__init__(self)

    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests]

    # -- the API --------------------------------------------------------------------------
    def api(self, method: str, path: str, body) -> tuple[int, object]:
        if method == "GET" and path == "/api/folders":
            return 200, self.folders
        if method == "POST" and path == "/api/folders":
            if any(f["title"] == body["title"] for f in self.folders):
                return 409, {"message": "a folder with the same name already exists"}
            folder = {"id": len(self.folders) + 1, "uid": body.get("uid") or f"f{len(self.folders) + 1}",
                      "title": body["title"]}
            self.folders.append(folder)
            return 200, folder
        if method == "GET" and path == "/api/datasources":
            return 200, self.datasources
        if method == "POST" and path == "/api/dashboards/db":
            return self._save_dashboard(body)
        if method == "POST" and path == "/api/v1/provisioning/alert-rules":
            if body["uid"] in self.rules:
                return 409, {"message": "rule uid already exists"}
            self.rules[body["uid"]] = body
            return 201, body
        if match := RULE.match(path):
            uid = match["uid"]
            if uid not in self.rules:
                return 404, {"message": "rule not found"}
            if method == "PUT":
                self.rules[uid] = body
            return 200, self.rules[uid]
        return 404, {"message": "not found"}

    def _save_dashboard(self, body) -> tuple[int, object]:
        board = body["dashboard"]
        uid, existing = board["uid"], self.dashboards.get(board["uid"])
        if existing and not body.get("overwrite"):
            return 412, {"status": "name-exists", "message": "A dashboard with the same uid already exists"}
        if board.get("id") is not None and not existing:
            return 404, {"status": "not-found", "message": "Dashboard not found"}
        version = existing["version"] + 1 if existing else 1
        self.dashboards[uid] = {"dashboard": board, "folderUid": body.get("folderUid"), "version": version}
        return 200, {"id": 1, "uid": uid, "url": f"/d/{uid}/leakwatch", "status": "success", "version": version}

    def answer(self, received: Received) -> Answer:
        body = json.loads(received.body) if received.body else None
        self.requests.append(Request(received.method, received.route, received.headers, body))
        if received.headers.get("Authorization") != f"Bearer {self.token}":
            return Answer.json(401, {"message": "Unauthorized"})
        return Answer.json(*self.api(received.method, received.route, body))

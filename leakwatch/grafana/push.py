"""`leakwatch grafana push`: install or update the «Где теряются деньги» board and its alert
rules in an existing Grafana (10.4+, with the ClickHouse plugin and a data source on the
leakwatch database), through its HTTP API. Running it again updates in place.

The token (a service account token with the Editor role, or Admin for the folder) comes
from --token or, better, the GRAFANA_TOKEN environment variable: a command line is
visible to other users of the machine. The notification policy tree is left alone (it is
the Grafana owner's); the rules carry the label team=leakwatch to route on.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

from urllib.parse import urlsplit

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from leakwatch.domain.spikes import SpikeRules
from leakwatch.grafana import CLICKHOUSE_TYPE, CLICKHOUSE_UID, FOLDER_TITLE
from leakwatch.grafana.alerts import add_threshold_arguments, api_rules, rules_from_arguments
from leakwatch.grafana.dashboard import build_dashboard


def add_parser(actions) -> None:
    push = actions.add_parser("push", help="create or update the folder, the dashboard and the alert rules",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    push.add_argument("--url", required=True, help="Grafana's base URL, e.g. https://grafana.example.com")
    push.add_argument("--token", help="service account token (default: $GRAFANA_TOKEN)")
    push.add_argument("--folder", default=FOLDER_TITLE, help="folder title (default: %(default)s)")
    push.add_argument("--datasource-uid",
                      help="uid of the ClickHouse data source to query (default: the only one, "
                           f"or the one with uid {CLICKHOUSE_UID})")
    add_threshold_arguments(push)
    push.set_defaults(func=run)


class PushError(RuntimeError):
    pass


@dataclass(frozen=True)
class Pushed:
    folder_uid: str
    dashboard_url: str
    rules_created: list[str]
    rules_updated: list[str]


def ensure_folder(api, title: str) -> str:
    """The folder's uid, created when no folder has that title."""
    for folder in api.folder.get_all_folders():
        if folder.get("title") == title:
            return folder["uid"]
    return api.folder.create_folder(title)["uid"]


def clickhouse_datasource_uid(api, wanted: str | None) -> str:
    if wanted:
        return wanted
    sources = [s for s in api.datasource.list_datasources() if s.get("type") == CLICKHOUSE_TYPE]
    uids = [s["uid"] for s in sources]
    if CLICKHOUSE_UID in uids:
        return CLICKHOUSE_UID
    if len(uids) == 1:
        return uids[0]
    found = ", ".join(f"{s['name']} ({s['uid']})" for s in sources) or "none"
    raise PushError(f"pick the ClickHouse data source with --datasource-uid (found: {found})")


def upsert_rule(api, rule: dict) -> bool:
    """True when the rule was created, False when an existing one was updated."""
    provisioning = api.alertingprovisioning
    try:
        provisioning.get_alertrule(rule["uid"])
    except GrafanaClientError as exc:
        if exc.status_code != 404:
            raise
        provisioning.create_alertrule(rule)
        return True
    provisioning.update_alertrule(rule["uid"], rule)
    return False


def push(api, *, folder: str = FOLDER_TITLE, datasource_uid: str | None = None,
         thresholds: SpikeRules = SpikeRules()) -> Pushed:
    source = clickhouse_datasource_uid(api, datasource_uid)  # before any write: it may refuse
    folder_uid = ensure_folder(api, folder)
    dashboard = build_dashboard(source)
    saved = api.dashboard.update_dashboard({
        "dashboard": {**dashboard, "id": None},  # matched by uid; overwrite replaces the old version
        "folderUid": folder_uid,
        "overwrite": True,
        "message": "leakwatch grafana push",
    })
    created, updated = [], []
    for rule in api_rules(dashboard, thresholds, datasource_uid=source, folder_uid=folder_uid):
        (created if upsert_rule(api, rule) else updated).append(rule["uid"])
    return Pushed(folder_uid, saved.get("url", ""), created, updated)


def url_problem(url: str) -> str | None:
    """Why --url is not a Grafana base URL, or None. grafana-client would read
    `localhost:3000` as scheme `localhost` and fail deep inside its HTTP library."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"--url {url!r} must start with http:// or https:// (e.g. http://{url.split('://')[-1]})"
    return None


def run(args) -> int:
    token = args.token or os.environ.get("GRAFANA_TOKEN")
    if not token:
        print("leakwatch: a Grafana token is needed: --token or GRAFANA_TOKEN", file=sys.stderr)
        return 2
    if problem := url_problem(args.url):
        print(f"leakwatch: {problem}", file=sys.stderr)
        return 2
    api = GrafanaApi.from_url(args.url, credential=token, timeout=30)
    try:
        result = push(api, folder=args.folder, datasource_uid=args.datasource_uid,
                      thresholds=rules_from_arguments(args))
    except PushError as exc:
        print(f"leakwatch: {exc}", file=sys.stderr)
        return 2
    except niquests.exceptions.RequestException as exc:  # refused, unknown host, TLS, timeout
        print(f"leakwatch: Grafana at --url {args.url} did not answer: {_network_reason(exc)}", file=sys.stderr)
        return 1
    except GrafanaException as exc:  # it answered with an error (401: the token, 403: its role, 5xx)
        status = getattr(exc, "status_code", None)
        hint = "; check --token / GRAFANA_TOKEN and its role (Editor)" if status in (401, 403) else ""
        print(f"leakwatch: Grafana at --url {args.url} refused the push: HTTP {status}: "
              f"{_first_line(exc)}{hint}", file=sys.stderr)
        return 1
    print(f"dashboard: {args.url.rstrip('/')}{result.dashboard_url}")
    print(f"alert rules: {len(result.rules_created)} created, {len(result.rules_updated)} updated")
    return 0


def _network_reason(exc: BaseException) -> str:
    """«Connection refused», «Failed to resolve 'host'»: the cause, without urllib3's object reprs."""
    text = str(exc)
    for pattern in (r"Failed to resolve '[^']+'", r"\[Errno -?\d+\] ([^'\")(]+)", r"[Tt]imed? ?out[^'\")]*"):
        if found := re.search(pattern, text):
            return (found.group(1) if found.groups() else found.group(0)).strip()
    return type(exc).__name__


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:300]

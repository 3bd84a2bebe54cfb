"""`leakwatch grafana push` through grafana-client against a fake Grafana on 127.0.0.1."""

from __future__ import annotations

import pytest

from leakwatch.cards.queries import ALERTS, CARDS
from leakwatch.cli import main
from leakwatch.domain.spikes import SpikeRules
from leakwatch.grafana import CLICKHOUSE_TYPE, DASHBOARD_UID, FOLDER_TITLE, RULE_GROUP
from leakwatch.grafana.alerts import alert_sql
from tests.support.fake_grafana import FakeGrafana
from tests.support.servers import free_port

TOKEN = "glsa_test_token"
CLICKHOUSE = {"uid": "ch-prod", "name": "ClickHouse prod", "type": CLICKHOUSE_TYPE}
RULES = "/api/v1/provisioning/alert-rules"


@pytest.fixture
def grafana(monkeypatch):
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    with FakeGrafana(TOKEN, datasources=[CLICKHOUSE, {"uid": "prom", "name": "P", "type": "prometheus"}]) as fake:
        yield fake


def push(grafana, *extra: str) -> int:
    return main(["grafana", "push", "--url", grafana.url, "--token", TOKEN, *extra])


def test_first_push_creates_folder_dashboard_and_rules(grafana):
    assert push(grafana) == 0
    rule_uids = ["leakwatch-leak-spike", "leakwatch-salvageable-burst"]
    assert grafana.calls() == [
        ("GET", "/api/datasources"), ("GET", "/api/folders"), ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
        *[call for uid in rule_uids for call in (("GET", f"{RULES}/{uid}"), ("POST", RULES))],
    ]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in grafana.requests)
    (folder,) = grafana.folders
    assert folder["title"] == FOLDER_TITLE

    save = next(r.body for r in grafana.requests if r.path == "/api/dashboards/db")
    assert save["overwrite"] is True and save["folderUid"] == folder["uid"]
    board = save["dashboard"]
    assert board["uid"] == DASHBOARD_UID and board["id"] is None
    targets = [t for p in board["panels"] for t in p.get("targets", [])]
    assert {t["datasource"]["uid"] for t in targets} == {"ch-prod"}  # the only ClickHouse data source
    assert {t["rawSql"] for t in targets} == set(CARDS.values())

    created = [r.body for r in grafana.requests if (r.method, r.path) == ("POST", RULES)]
    assert [r["uid"] for r in created] == rule_uids
    for rule in created:
        assert rule["folderUID"] == folder["uid"] and rule["ruleGroup"] == RULE_GROUP
        assert rule["data"][0]["datasourceUid"] == "ch-prod" and rule["data"][0]["model"]["rawSql"] in {
            alert_sql(name, SpikeRules()) for name in ALERTS}
        assert rule["condition"] == "C"


def test_second_push_updates_in_place(grafana):
    assert push(grafana) == 0
    grafana.requests.clear()
    assert push(grafana, "--leak-factor", "2") == 0
    assert ("POST", "/api/folders") not in grafana.calls() and ("POST", RULES) not in grafana.calls()
    assert [p for m, p in grafana.calls() if m == "PUT"] == [
        f"{RULES}/leakwatch-leak-spike", f"{RULES}/leakwatch-salvageable-burst"]
    assert len(grafana.folders) == 1 and list(grafana.dashboards) == [DASHBOARD_UID]
    assert grafana.dashboards[DASHBOARD_UID]["version"] == 2 and len(grafana.rules) == 2
    spike = grafana.rules["leakwatch-leak-spike"]
    assert spike["data"][-1]["model"]["conditions"][0]["evaluator"]["params"] == [2.0]


def test_token_from_the_environment(grafana, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    assert main(["grafana", "push", "--url", grafana.url]) == 0
    assert grafana.dashboards


def test_no_token_no_request(grafana, capsys):
    assert main(["grafana", "push", "--url", grafana.url]) == 2
    assert "GRAFANA_TOKEN" in capsys.readouterr().err and grafana.requests == []


def test_several_clickhouse_sources_need_a_choice(grafana):
    grafana.datasources.append({"uid": "ch-other", "name": "ClickHouse other", "type": CLICKHOUSE_TYPE})
    assert push(grafana) == 2
    assert [r.method for r in grafana.requests] == ["GET"]  # nothing written
    assert push(grafana, "--datasource-uid", "ch-other") == 0
    targets = [t for p in grafana.dashboards[DASHBOARD_UID]["dashboard"]["panels"] for t in p.get("targets", [])]
    assert {t["datasource"]["uid"] for t in targets} == {"ch-other"}


def test_a_url_without_scheme_is_one_line_naming_the_flag(grafana, capsys):
    host_port = grafana.url.split("://", 1)[1]
    assert main(["grafana", "push", "--url", host_port, "--token", TOKEN]) == 2
    err = capsys.readouterr().err
    assert err.strip() == (f"leakwatch: --url '{host_port}' must start with http:// or https:// "
                           f"(e.g. http://{host_port})")
    assert grafana.requests == []


def test_an_unreachable_grafana_is_one_line_with_the_cause(capsys):
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert main(["grafana", "push", "--url", url, "--token", TOKEN]) == 1
    assert capsys.readouterr().err.strip() == f"leakwatch: Grafana at --url {url} did not answer: Connection refused"


def test_a_wrong_token_is_one_line_not_a_traceback(grafana, capsys):
    assert main(["grafana", "push", "--url", grafana.url, "--token", "wrong"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"leakwatch: Grafana at --url {grafana.url} refused the push:") and "401" in err
    assert len(err.strip().splitlines()) == 1

"""Grafana's provisioning files (datasources, dashboards, alerting) and ClickHouse's read-only
user, checked against each other and the formats Grafana reads."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import yaml

from leakwatch.cards.queries import ALERTS
from leakwatch.domain.spikes import SpikeRules
from leakwatch.grafana import CLICKHOUSE_TYPE, CLICKHOUSE_UID, EXPRESSION_UID, PROMETHEUS_UID
from leakwatch.grafana.alerts import alert_sql
from leakwatch.grafana.files import DASHBOARD_FILE, RULES_FILE
from leakwatch.settings import REPO_ROOT, Settings

PROVISIONING = REPO_ROOT / "grafana" / "provisioning"
DASHBOARD = json.loads(DASHBOARD_FILE.read_text(encoding="utf-8"))


def load(relative: str) -> dict:
    return yaml.safe_load((PROVISIONING / relative).read_text(encoding="utf-8"))


def datasource(kind: str) -> dict:
    (found,) = [d for d in load("datasources/datasources.yaml")["datasources"] if d["type"] == kind]
    return found


def grafana_user() -> ET.Element:
    root = ET.parse(REPO_ROOT / "deploy" / "clickhouse" / "users.d" / "grafana.xml").getroot()
    (user,) = list(root.find("users"))
    return user


def test_clickhouse_datasource_reads_leakwatch_as_the_read_only_user():
    ds = datasource(CLICKHOUSE_TYPE)
    assert ds["uid"] == CLICKHOUSE_UID
    data = ds["jsonData"]
    assert {"host", "port", "protocol", "username", "defaultDatabase"} <= set(data)
    assert data["protocol"] in ("native", "http") and data["port"] == {"native": 9000, "http": 8123}[data["protocol"]]
    assert data["defaultDatabase"] == Settings.model_fields["clickhouse_database"].default
    assert data["username"] == grafana_user().tag
    assert ds["secureJsonData"] == {"password": "${CLICKHOUSE_READONLY_PASSWORD}"}  # Grafana's env, never the repo


def test_prometheus_datasource():
    ds = datasource("prometheus")
    assert ds["uid"] == PROMETHEUS_UID and ds["url"] == "http://prometheus:9090"


def test_clickhouse_user_is_read_only_but_may_set_its_query_timeout():
    user = grafana_user()
    assert user.find("password").get("from_env") == "CLICKHOUSE_READONLY_PASSWORD"
    assert [d.text for d in user.find("allow_databases")] == [Settings.model_fields["clickhouse_database"].default]
    root = ET.parse(REPO_ROOT / "deploy" / "clickhouse" / "users.d" / "grafana.xml").getroot()
    profile = root.find(f"profiles/{user.find('profile').text}")
    assert profile.find("readonly").text == "1"
    assert profile.find("constraints/max_execution_time/changeable_in_readonly") is not None


def test_dashboard_provider_loads_the_generated_board():
    (provider,) = load("dashboards/leakwatch.yaml")["providers"]
    assert provider["type"] == "file" and provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert DASHBOARD_FILE.parent.name == "dashboards"


def test_alert_rules_file_format():
    rules_file = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    assert rules_file["apiVersion"] == 1
    panel_ids = {p["id"] for p in DASHBOARD["panels"]}
    rules = [r for g in rules_file["groups"] for r in g["rules"]]
    # the SQL of queries.py, the baseline's length written in
    assert {r["data"][0]["model"]["rawSql"] for r in rules} == {alert_sql(name, SpikeRules()) for name in ALERTS}
    for group in rules_file["groups"]:
        assert group["name"] and group["folder"] and re.fullmatch(r"\d+[smh]", group["interval"])
    for rule in rules:
        refs = [q["refId"] for q in rule["data"]]
        assert rule["condition"] in refs and len(refs) == len(set(refs))
        query, *expressions = rule["data"]
        assert query["datasourceUid"] == CLICKHOUSE_UID == query["model"]["datasource"]["uid"]
        assert query["relativeTimeRange"]["from"] > query["relativeTimeRange"]["to"] == 0
        assert query["model"]["format"] == 1  # table: alerting on numbers
        for e in expressions:
            assert e["datasourceUid"] == EXPRESSION_UID and e["model"]["expression"] in refs
        assert rule["dashboardUid"] == DASHBOARD["uid"] and rule["panelId"] in panel_ids
        assert rule["noDataState"] in ("OK", "NoData", "Alerting") and rule["execErrState"] in ("Error", "Alerting", "OK")
        # Grafana interpolates $VAR in labels and ${VAR} in annotations from its environment.
        assert "$" not in json.dumps(rule["labels"])
        assert "${" not in json.dumps(rule["annotations"], ensure_ascii=False)


def test_contact_point_and_policy():
    points = load("alerting/contact-points.yaml")
    receivers = {cp["name"]: cp["receivers"] for cp in points["contactPoints"]}
    (webhook,) = receivers["leakwatch-webhook"]
    assert webhook["type"] == "webhook" and webhook["settings"]["url"] == "${LEAKWATCH_ALERT_WEBHOOK_URL}"
    policies = load("alerting/policies.yaml")["policies"]

    def named(policy: dict) -> set[str]:
        return {policy["receiver"]}.union(*(named(r) for r in policy.get("routes", [])))

    assert set().union(*(named(p) for p in policies)) <= set(receivers)
    rule_labels = [r["labels"] for g in yaml.safe_load(RULES_FILE.read_text())["groups"] for r in g["rules"]]
    matchers = [tuple(m) for p in policies for r in p.get("routes", []) for m in r.get("object_matchers", [])]
    for labels in rule_labels:
        assert any(op == "=" and labels.get(k) == v for k, op, v in matchers)

"""docker-compose.yml, checked statically (no Docker engine here): the services, their wiring,
and that every leakwatch setting it passes is a real one with a valid value, in line with
the local stack (deploy/local/kafka.sh) and the other deploy files."""

from __future__ import annotations

import os
import re

import pytest
import yaml

from leakwatch.cli import SUBCOMMANDS
from leakwatch.grafana import CLICKHOUSE_TYPE
from leakwatch.settings import REPO_ROOT, Settings

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
APPS = {name: s for name, s in SERVICES.items() if "build" in s}
LONG_RUNNING = {"kafka", "clickhouse", "grafana", "prometheus", "worker", "sink", "ingest", "notifier"}
_VAR = re.compile(r"\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: object) -> str | None:
    """Compose's substitution with none of the variables set: the demo defaults."""
    if value is None:
        return None  # passed through from the user's environment, unset otherwise

    def sub(m: re.Match) -> str:
        name, op, arg = m.groups()
        if op and op.endswith("?"):
            raise AssertionError(f"${{{name}}} is required: {arg}")
        return arg if op else ""

    return _VAR.sub(sub, str(value)).replace("$$", "$")


def env(service: str) -> dict[str, str]:
    return {k: interpolate(v) for k, v in (SERVICES[service].get("environment") or {}).items() if v is not None}


def setting_names() -> set[str]:
    names = set()
    for field, info in Settings.model_fields.items():
        alias = info.validation_alias
        names.add(alias if isinstance(alias, str) else f"LEAKWATCH_{field.upper()}")
    return names


def test_the_whole_stack_is_there():
    assert {"kafka", "clickhouse", "grafana", "prometheus", "topics", "worker", "ingest", "notifier",
            "simulator"} <= set(SERVICES)
    assert set(APPS) == {"topics", "worker", "sink", "reactivation", "ingest", "notifier", "simulator"}


def test_app_services_run_leakwatch_commands_from_one_image():
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile and 'ENTRYPOINT ["leakwatch"]' in dockerfile
    for name, service in APPS.items():
        assert service["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}, name
        assert service["command"][0] in SUBCOMMANDS, name
    assert SERVICES["simulator"]["command"][:2] == ["simulate", "live"]
    assert SERVICES["reactivation"]["command"] == ["reactivation", "run"]


def test_volumes_are_declared_and_bind_mounts_exist():
    declared = set(COMPOSE["volumes"])
    used = set()
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith((".", "/")):
                assert (REPO_ROOT / source).exists(), f"{name}: {source} missing"
            else:
                used.add(source)
    assert used == declared


def test_healthchecks_and_start_order():
    for name in LONG_RUNNING:
        assert SERVICES[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name, service in SERVICES.items():
        for dep, how in service.get("depends_on", {}).items():
            condition = how["condition"]
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[dep], f"{name} waits for {dep}, which has no healthcheck"
            else:
                assert condition == "service_completed_successfully" and SERVICES[dep]["restart"] == "no"
    assert SERVICES["worker"]["depends_on"]["topics"]["condition"] == "service_completed_successfully"


def test_app_environment_is_real_settings():
    known = setting_names()
    for name, service in APPS.items():
        unknown = set(service.get("environment") or {}) - known
        assert not unknown, f"{name}: {unknown} are not settings of leakwatch/settings.py"


@pytest.mark.parametrize("service", sorted(APPS))
def test_app_environment_values_load(service, monkeypatch):
    for key in list(os.environ):
        if key.startswith(("LEAKWATCH_", "CLICKHOUSE_")):
            monkeypatch.delenv(key)
    for key, value in env(service).items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # raises on a value the process would refuse at start
    assert settings.kafka_bootstrap == "kafka:9092"


def test_partitions_and_topic_creation_match_the_local_stack():
    local = (REPO_ROOT / "deploy" / "local" / "kafka.sh").read_text()
    local_partitions = re.search(r"^num\.partitions=(\d+)$", local, re.M).group(1)
    assert "auto.create.topics.enable=false" in local
    kafka = env("kafka")
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    partitions = {env(name)["LEAKWATCH_TOPIC_PARTITIONS"] for name in APPS}
    assert partitions == {kafka["KAFKA_NUM_PARTITIONS"]} == {local_partitions}
    assert int(local_partitions) == Settings.model_fields["topic_partitions"].default
    assert len({env(name)["LEAKWATCH_TOPIC_PREFIX"] for name in APPS}) == 1
    assert "apache/kafka:4.1.1" == SERVICES["kafka"]["image"]
    assert "<version>4.1.1</version>" in (REPO_ROOT / "deploy" / "local" / "kafka" / "pom.xml").read_text()


@pytest.mark.parametrize("service, host, port", [
    ("worker", "LEAKWATCH_WORKER_WEB_HOST", "LEAKWATCH_WORKER_WEB_PORT"),
    ("sink", "LEAKWATCH_SINK_WEB_HOST", "LEAKWATCH_SINK_WEB_PORT"),
    ("ingest", "LEAKWATCH_INGEST_HOST", "LEAKWATCH_INGEST_PORT"),
    ("notifier", "LEAKWATCH_NOTIFIER_HOST", "LEAKWATCH_NOTIFIER_PORT"),
])
def test_http_services_listen_where_they_are_reached(service, host, port):
    values = env(service)
    assert values[host] == "0.0.0.0"  # reachable from the other containers
    health = " ".join(SERVICES[service]["healthcheck"]["test"])
    assert f"127.0.0.1:{values[port]}/health" in health
    published = [p for p in SERVICES[service].get("ports", []) if p.endswith(f":{values[port]}")]
    assert published or service == "notifier"


def test_the_sink_serves_the_web_board_with_its_token():
    """The board is the sink's (one process owns the store); beyond loopback, as in the stack,
    the sink starts only with the token (check_bind), and the board's port is published."""
    from leakwatch.web.auth import check_bind, is_loopback

    sink = env("sink")
    assert not is_loopback(sink["LEAKWATCH_SINK_WEB_HOST"]) and sink["LEAKWATCH_WEB_TOKEN"]
    check_bind(sink["LEAKWATCH_SINK_WEB_HOST"], sink["LEAKWATCH_WEB_TOKEN"])
    assert f"127.0.0.1:{sink['LEAKWATCH_SINK_WEB_PORT']}:{sink['LEAKWATCH_SINK_WEB_PORT']}" in SERVICES["sink"]["ports"]
    assert not any("LEAKWATCH_WEB_TOKEN" in (s.get("environment") or {}) for n, s in APPS.items() if n != "sink")


def test_reactivation_starts_after_the_topics_it_reads_and_writes():
    service = SERVICES["reactivation"]
    assert service["depends_on"] == {"topics": {"condition": "service_completed_successfully"}}
    assert env("reactivation")["LEAKWATCH_REACTIVATION_CRM"] == "none"  # CRM tasks are opt-in


def test_worker_uses_the_clickhouse_server_as_the_app_user():
    worker, clickhouse = env("worker"), env("clickhouse")
    assert worker["CLICKHOUSE_URL"] == "http://clickhouse:8123"
    assert worker["CLICKHOUSE_USER"] == clickhouse["CLICKHOUSE_USER"]
    assert worker["CLICKHOUSE_PASSWORD"] == clickhouse["CLICKHOUSE_PASSWORD"]
    assert worker["LEAKWATCH_CLICKHOUSE_DATABASE"] == clickhouse["CLICKHOUSE_DB"]
    mounts = SERVICES["clickhouse"]["volumes"]
    assert "./deploy/clickhouse/users.d/grafana.xml:/etc/clickhouse-server/users.d/grafana.xml:ro" in mounts
    assert any(m.startswith("./deploy/clickhouse/initdb/") and ":/docker-entrypoint-initdb.d/" in m for m in mounts)


def test_grafana_gets_the_plugin_the_provisioning_and_every_variable_it_needs():
    grafana = env("grafana")
    assert CLICKHOUSE_TYPE in grafana["GF_INSTALL_PLUGINS"].split(",")
    mounts = dict(m.rsplit(":", 1)[0].split(":", 1) for m in SERVICES["grafana"]["volumes"] if m.startswith("./"))
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load((REPO_ROOT / "grafana/provisioning/dashboards/leakwatch.yaml").read_text())
    assert mounts["./grafana/dashboards"] == provider["providers"][0]["options"]["path"]
    needed = set()
    for path in (REPO_ROOT / "grafana" / "provisioning").rglob("*.yaml"):
        needed |= {n for n in re.findall(r"\$\{(\w+)\}", str(yaml.safe_load(path.read_text()))) if not n.startswith("__")}
    assert needed and needed <= set(grafana), f"Grafana lacks {needed - set(grafana)}"
    assert grafana["CLICKHOUSE_READONLY_PASSWORD"] == env("clickhouse")["CLICKHOUSE_READONLY_PASSWORD"]


def test_grafana_alerts_reach_the_notifier():
    grafana, notifier = env("grafana"), env("notifier")
    assert grafana["LEAKWATCH_ALERT_WEBHOOK_URL"] == f"http://notifier:{notifier['LEAKWATCH_NOTIFIER_PORT']}/grafana"
    assert grafana["LEAKWATCH_NOTIFIER_GRAFANA_TOKEN"] == notifier["LEAKWATCH_NOTIFIER_GRAFANA_TOKEN"]


def test_prometheus_reads_the_deploy_files_and_keeps_the_alert_history():
    service = SERVICES["prometheus"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in service["volumes"]
    retention = next(a for a in service["command"] if a.startswith("--storage.tsdb.retention.time="))
    assert int(retention.split("=")[1].rstrip("d")) >= 28  # the leak-spike rule's look-back

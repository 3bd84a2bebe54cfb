import re

import pytest

from leakwatch.settings import REPO_ROOT as ROOT, SettingsError, known_variables, load_settings, unknown_variables


@pytest.mark.parametrize("env,name", [
    ({"LEAKWATCH_TOPIC_PARTITIONS": "0"}, "LEAKWATCH_TOPIC_PARTITIONS"),
    ({"LEAKWATCH_AVERAGE_CHECK_RUB": "Основная=сорок"}, "LEAKWATCH_AVERAGE_CHECK_RUB"),
    ({"LEAKWATCH_AVERAGE_CHECK_RUB": "Основная=-5"}, "LEAKWATCH_AVERAGE_CHECK_RUB"),
    ({"LEAKWATCH_KAFKA_BOOTSTRAP": "localhost"}, "LEAKWATCH_KAFKA_BOOTSTRAP"),
    ({"LEAKWATCH_KAFKA_BOOTSTRAP": "kafka://127.0.0.1:19092"}, "LEAKWATCH_KAFKA_BOOTSTRAP"),
    ({"LEAKWATCH_TIMEZONE": "Mars/Olympus"}, "LEAKWATCH_TIMEZONE"),
    ({"LEAKWATCH_CLASSIFIER_ENGINE": "openai"}, "LEAKWATCH_OPENAI_BASE_URL"),
    ({"LEAKWATCH_CLASSIFIER_ENGINE": "gpt"}, "LEAKWATCH_CLASSIFIER_ENGINE"),
    ({"LEAKWATCH_INGEST_MANGO_API_KEY": "k"}, "LEAKWATCH_INGEST_MANGO_API_SALT"),
    ({"LEAKWATCH_INGEST_AMOCRM_API_URL": "https://x.amocrm.ru"}, "LEAKWATCH_INGEST_AMOCRM_API_TOKEN"),
    ({"LEAKWATCH_INGEST_ZADARMA_TIMEZONE": "Moscow"}, "LEAKWATCH_INGEST_ZADARMA_TIMEZONE"),
    ({"LEAKWATCH_TRANSCRIBE_ENGINE": "openai"}, "LEAKWATCH_TRANSCRIBE_BASE_URL"),
    ({"LEAKWATCH_PUBLIC_EVIDENCE": "maybe"}, "LEAKWATCH_PUBLIC_EVIDENCE"),
    ({"LEAKWATCH_CRM_LOSS_REASON_VALUES": "501=Дёшево"}, "LEAKWATCH_CRM_LOSS_REASON_VALUES"),
    ({"LEAKWATCH_CRM_LOSS_REASON_VALUES": "501"}, "LEAKWATCH_CRM_LOSS_REASON_VALUES"),
    ({"LEAKWATCH_CRM_LOSS_REASON_FIELD": "bitrix24=LOSS_REASON"}, "LEAKWATCH_CRM_LOSS_REASON_FIELD"),
    ({"LEAKWATCH_CRM_LOSS_REASON_FIELD": "amocrm=123456"}, "LEAKWATCH_CRM_LOSS_REASON_FIELD"),
    ({"LEAKWATCH_CRM_LOSS_REASON_FIELD": "kommo=loss_reason_id"}, "LEAKWATCH_CRM_LOSS_REASON_FIELD"),
    ({"LEAKWATCH_CRM_CLOSED_LOST_STAGES": "143,Условный отказ"}, "LEAKWATCH_CRM_CLOSED_LOST_STAGES"),
])
def test_wrong_setting_stops_with_its_name(monkeypatch, capsys, env, name):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert exc.value.code == 2
    assert name in capsys.readouterr().err


def test_average_check_map_parses(monkeypatch):
    monkeypatch.setenv("LEAKWATCH_AVERAGE_CHECK_RUB", "Основная=40000, b2b=120000")
    assert load_settings().average_check_rub == {"Основная": 40000, "b2b": 120000}


def test_a_misspelled_variable_stops_naming_the_closest_setting(monkeypatch, capsys):
    monkeypatch.setenv("LEAKWATCH_PUBLIK_EVIDENCE", "false")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    assert exc.value.code == 2
    assert capsys.readouterr().err == ("leakwatch: unknown settings\n  LEAKWATCH_PUBLIK_EVIDENCE: not a leakwatch "
                                       "setting; did you mean LEAKWATCH_PUBLIC_EVIDENCE?\n")


def test_other_variables_pass():
    assert unknown_variables({"LEAKWATCH_STATE_DIR": "/tmp", "LEAKWATCH_TIMEZONE": "UTC", "PATH": "/bin",
                              "CLICKHOUSE_URL": "http://x"}) == []
    assert unknown_variables({"LEAKWATCH_ZZZ": "1"}) == [
        "  LEAKWATCH_ZZZ: not a leakwatch setting; no setting has a similar name (see leakwatch/settings.py)"]


# Where the project itself sets or names LEAKWATCH_* variables: none may be unknown, or the
# processes it starts would stop at start.
SOURCES = ["docker-compose.yml", "Makefile", "README.md", "deploy/**/*", "grafana/**/*", "tests/**/*.py",
           "services/**/*.py", "streams/**/*.py", "leakwatch/**/*.py", "benchmarks/**/*.py", "examples/**/*"]


# The tests' deliberate misspellings (here and in tests/unit/services/test_demo.py).
MISSPELT = {"LEAKWATCH_PUBLIK_EVIDENCE", "LEAKWATCH_ZZZ", "LEAKWATCH_GRACE_PERIOD"}


def test_every_variable_the_project_names_is_known():
    names = {}
    for pattern in SOURCES:
        for path in ROOT.glob(pattern):
            if path.is_file() and ".local" not in path.parts:
                for name in re.findall(r"\bLEAKWATCH_[A-Z0-9_]*[A-Z0-9]\b", path.read_text(errors="ignore")):
                    names.setdefault(name, path.relative_to(ROOT))
    assert "LEAKWATCH_KAFKA_BOOTSTRAP" in names  # the scan reads the files
    unknown = {name: str(where) for name, where in names.items() if name not in known_variables() | MISSPELT}
    assert unknown == {}


def test_crm_review_settings_parse(monkeypatch):
    monkeypatch.setenv("LEAKWATCH_CRM_REVIEW_STAGES", "Условный отказ, 61000")
    monkeypatch.setenv("LEAKWATCH_CRM_LOSS_REASON_FIELD", "bitrix24=UF_CRM_LOSS_REASON")
    monkeypatch.setenv("LEAKWATCH_CRM_LOSS_REASON_VALUES", "501=Дорого,502=Поздно связались")
    s = load_settings()
    assert s.crm_review_stages == ["Условный отказ", "61000"]
    assert s.crm_loss_reason_field == {"bitrix24": "UF_CRM_LOSS_REASON"}
    assert s.crm_loss_reason_values == {"501": "Дорого", "502": "Поздно связались"}

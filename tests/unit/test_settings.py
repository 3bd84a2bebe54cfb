import pytest

from leakwatch.settings import SettingsError, load_settings


@pytest.mark.parametrize("env,name", [
    ({"LEAKWATCH_TOPIC_PARTITIONS": "0"}, "LEAKWATCH_TOPIC_PARTITIONS"),
    ({"LEAKWATCH_AVERAGE_CHECK_RUB": "Основная=сорок"}, "LEAKWATCH_AVERAGE_CHECK_RUB"),
    ({"LEAKWATCH_AVERAGE_CHECK_RUB": "Основная=-5"}, "LEAKWATCH_AVERAGE_CHECK_RUB"),
    ({"LEAKWATCH_KAFKA_BOOTSTRAP": "localhost"}, "LEAKWATCH_KAFKA_BOOTSTRAP"),
    ({"LEAKWATCH_TIMEZONE": "Mars/Olympus"}, "LEAKWATCH_TIMEZONE"),
    ({"LEAKWATCH_CLASSIFIER_ENGINE": "openai"}, "LEAKWATCH_OPENAI_BASE_URL"),
    ({"LEAKWATCH_CLASSIFIER_ENGINE": "gpt"}, "LEAKWATCH_CLASSIFIER_ENGINE"),
    ({"LEAKWATCH_INGEST_MANGO_API_KEY": "k"}, "LEAKWATCH_INGEST_MANGO_API_SALT"),
    ({"LEAKWATCH_INGEST_AMOCRM_API_URL": "https://x.amocrm.ru"}, "LEAKWATCH_INGEST_AMOCRM_API_TOKEN"),
    ({"LEAKWATCH_INGEST_ZADARMA_TIMEZONE": "Moscow"}, "LEAKWATCH_INGEST_ZADARMA_TIMEZONE"),
    ({"LEAKWATCH_TRANSCRIBE_ENGINE": "openai"}, "LEAKWATCH_TRANSCRIBE_BASE_URL"),
    ({"LEAKWATCH_PUBLIC_EVIDENCE": "maybe"}, "LEAKWATCH_PUBLIC_EVIDENCE"),
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

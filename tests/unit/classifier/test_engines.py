import pytest

from leakwatch.classifier.embedded import EmbeddedClassifier
from leakwatch.classifier.engines import build_engine
from leakwatch.classifier.openai_engine import OpenAIClassifier


def test_embedded_by_name_costs_nothing_until_used():
    engine = build_engine("embedded")
    assert isinstance(engine, EmbeddedClassifier) and engine.name == "embedded"


def test_openai_needs_base_url_and_model():
    with pytest.raises(ValueError, match="base_url"):
        build_engine("openai", model="m")
    with pytest.raises(ValueError, match="model"):
        build_engine("openai", base_url="http://127.0.0.1:9/v1")
    engine = build_engine("openai", base_url="http://127.0.0.1:9/v1", model="m", api_key=None, concurrency=3)
    assert isinstance(engine, OpenAIClassifier) and engine.info.name == "openai" and "m" in engine.info.version


def test_unknown_engine_names_the_allowed_values():
    with pytest.raises(ValueError, match="embedded, openai"):
        build_engine("gpt")


def test_openai_engine_from_settings_uses_the_request_timeout_not_the_batch_deadline(monkeypatch):
    from leakwatch.classifier.engines import engine_from_settings
    from leakwatch.settings import load_settings

    for key, value in {"LEAKWATCH_CLASSIFIER_ENGINE": "openai", "LEAKWATCH_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
                       "LEAKWATCH_OPENAI_MODEL": "m", "LEAKWATCH_CLASSIFIER_BATCH_DEADLINE_S": "600",
                       "LEAKWATCH_OPENAI_REQUEST_TIMEOUT_S": "12.5", "LEAKWATCH_OPENAI_MAX_RETRIES": "4",
                       "LEAKWATCH_OPENAI_FORMAT_MEMORY_S": "0"}.items():
        monkeypatch.setenv(key, value)
    engine = engine_from_settings(load_settings())
    assert engine._client.timeout == 12.5 and engine._client.max_retries == 4
    assert engine._learned is None  # format memory off: every request starts at json_schema


@pytest.mark.parametrize("name, value", [("LEAKWATCH_OPENAI_REQUEST_TIMEOUT_S", "0"),
                                         ("LEAKWATCH_OPENAI_FORMAT_MEMORY_S", "-1"),
                                         ("LEAKWATCH_OPENAI_MAX_TOKENS", "3")])
def test_a_wrong_openai_setting_stops_with_its_name(monkeypatch, capsys, name, value):
    from leakwatch.settings import SettingsError, load_settings

    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError):
        load_settings()
    assert name in capsys.readouterr().err

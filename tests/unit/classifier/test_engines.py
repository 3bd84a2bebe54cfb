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

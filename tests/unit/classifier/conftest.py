import pytest

from leakwatch.classifier.embedded import EmbeddedClassifier


@pytest.fixture(scope="session")
def embedded() -> EmbeddedClassifier:
    """The real engine trained on the real bank, once per test session (~3 s)."""
    engine = EmbeddedClassifier()
    engine.warm_up()
    return engine

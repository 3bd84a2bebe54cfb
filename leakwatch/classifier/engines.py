"""Choosing an engine by name (the `classifier_engine` setting, `--engine`)."""

from __future__ import annotations

from leakwatch.classifier.contract import RefusalClassifier

ENGINE_NAMES = ("embedded", "openai")
REQUIRED_OPENAI_SETTINGS = ("base_url", "model")


def build_engine(name: str, **openai_settings) -> RefusalClassifier:
    """`embedded` ignores the settings; `openai` needs base_url and model and accepts
    api_key, request_timeout_s, max_retries, concurrency, cache_size, format_memory_s,
    max_tokens (see OpenAIClassifier)."""
    if name == "embedded":
        from leakwatch.classifier.embedded import EmbeddedClassifier

        return EmbeddedClassifier()
    if name == "openai":
        missing = [key for key in REQUIRED_OPENAI_SETTINGS if not openai_settings.get(key)]
        if missing:
            raise ValueError(f"the openai engine needs setting(s): {', '.join(missing)}")
        from leakwatch.classifier.openai_engine import OpenAIClassifier

        settings = {k: v for k, v in openai_settings.items() if v is not None}
        return OpenAIClassifier(**settings)
    raise ValueError(f"unknown classifier engine {name!r}; allowed: {', '.join(ENGINE_NAMES)}")


def engine_from_settings(settings) -> RefusalClassifier:
    """The engine `leakwatch.settings.Settings` asks for (LEAKWATCH_CLASSIFIER_ENGINE and
    LEAKWATCH_OPENAI_*; the key only ever comes from the environment)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return build_engine(
        settings.classifier_engine,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=key,
        request_timeout_s=settings.openai_request_timeout_s,
        item_deadline_s=settings.classifier_item_deadline_s,
        max_retries=settings.openai_max_retries,
        concurrency=settings.openai_concurrency,
        format_memory_s=settings.openai_format_memory_s,
        max_tokens=settings.openai_max_tokens,
    )

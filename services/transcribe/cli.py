"""`leakwatch transcribe`: recordings of answered calls into transcript events."""

from __future__ import annotations

import logging
import signal


def register(sub) -> None:
    p = sub.add_parser("transcribe", help="transcribe call recordings (OpenAI-compatible audio API or embedded Whisper)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=run)


def build_engine(settings):
    from leakwatch.settings import REPO_ROOT
    from services.transcribe.engines import OpenAIEngine, WhisperEngine
    from services.transcribe.model import packaged_model

    if settings.transcribe_engine == "openai":
        key = settings.transcribe_api_key.get_secret_value() if settings.transcribe_api_key else None
        return OpenAIEngine(settings.transcribe_base_url, settings.transcribe_model, key)
    model_dir = settings.whisper_model_dir or packaged_model(REPO_ROOT / ".local" / "whisper-base")
    return WhisperEngine(str(model_dir))


def run(args) -> int:
    from leakwatch.logs import configure_logging
    from leakwatch.settings import load_settings
    from services.kafka_out import EventProducer
    from services.transcribe.worker import TranscribeWorker
    from streams.topology import ensure_topics

    settings = load_settings()
    configure_logging(args.loglevel)
    ensure_topics(settings)
    engine = build_engine(settings)
    producer = EventProducer(settings.kafka_bootstrap, topic_prefix=settings.topic_prefix)
    worker = TranscribeWorker(settings, engine, producer)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    logging.getLogger("leakwatch.transcribe").info("transcribing with %s", engine.name)
    worker.run()
    producer.close()
    return 0

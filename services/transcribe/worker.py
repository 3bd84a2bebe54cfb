"""`leakwatch transcribe`: reads telephony.calls, and for an answered call with a recording URL
and no transcript, downloads the recording, transcribes it and produces the transcript event
(same call_id) back on telephony.calls; the stream adds it to the deal's conversation.

One consumer group of its own; an offset is committed only after the transcript event is
acknowledged (or the recording was dead-lettered with the reason), so a crash repeats work
but never loses it, and the deterministic event id makes a repeat harmless. Logs carry call
ids, never transcript text.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import httpx
from confluent_kafka import Consumer

from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from schemas.decoding import decode
from schemas.events import CallEvent, DeadLetter
from schemas.topics import CALLS, INGEST_DEADLETTER
from services.kafka_out import DeliveryFailed, EventProducer
from services.transcribe.engines import Engine
from services.transcribe.recordings import needs_transcript, transcribe_recording, transcript_event

log = logging.getLogger("leakwatch.transcribe")


class RecordingTooLarge(ValueError):
    pass


def download(url: str, max_bytes: int, timeout_s: float = 60.0) -> bytes:
    chunks, size = [], 0
    with httpx.stream("GET", url, timeout=timeout_s, follow_redirects=True) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise RecordingTooLarge(f"recording larger than {max_bytes} bytes")
            chunks.append(chunk)
    return b"".join(chunks)


class TranscribeWorker:
    def __init__(self, settings: Settings, engine: Engine, producer: EventProducer):
        self._settings, self._engine, self._producer = settings, engine, producer
        self._consumer = Consumer({
            **kafka_config(settings.kafka_bootstrap), "group.id": f"{settings.app_id}-transcribe",
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            # A long recording takes minutes on one core: the poll interval must outlast it.
            "max.poll.interval.ms": 3_600_000,
            "session.timeout.ms": int(settings.broker_session_timeout_s * 1000),
            "heartbeat.interval.ms": int(settings.broker_heartbeat_interval_s * 1000)})
        self._max = int(settings.transcribe_max_recording_mb * 1024 * 1024)
        self.transcribed = 0
        self._running = True

    def stop(self) -> None:
        self._running = False

    def run(self) -> None:
        self._consumer.subscribe([self._settings.topic(CALLS.name)])
        try:
            while self._running:
                msg = self._consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                self._one(msg)
                self._consumer.commit(message=msg, asynchronous=False)
        finally:
            self._consumer.close()

    def _one(self, msg) -> None:
        try:
            call = decode(CALLS, msg.value(), key=msg.key())
        except Exception:  # the stream dead-letters malformed calls itself
            return
        if not isinstance(call, CallEvent) or not needs_transcript(call):
            return
        started = time.monotonic()
        try:
            data = download(call.recording_ref, self._max)
            turns = transcribe_recording(data, self._engine, language=self._settings.transcribe_language,
                                         manager_channel=self._settings.transcribe_manager_channel)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded with its reason, never dropped
            self._dead_letter(call, f"transcribe {call.call_id}: {type(exc).__name__}: {exc}"[:500])
            return
        while True:
            try:
                self._producer.send(CALLS, transcript_event(call, turns))
                self._producer.flush(30)
                break
            except DeliveryFailed:
                log.exception("transcript of %s not confirmed by Kafka; retrying", call.call_id)
                time.sleep(5)
        self.transcribed += 1
        log.info("transcribed %s (deal %s): %d turns in %.1fs", call.call_id, call.deal_id, len(turns),
                 time.monotonic() - started)

    def _dead_letter(self, call: CallEvent, error: str) -> None:
        letter = DeadLetter(topic=CALLS.name, partition=None, offset=None, key=call.deal_id, error=error,
                            payload=call.model_dump_json(exclude_none=True), received_at=datetime.now(timezone.utc))
        log.warning("%s: recording not transcribed: %s", call.call_id, error)
        self._producer.send_raw(INGEST_DEADLETTER.name, call.deal_id.encode(), letter.model_dump_json().encode())
        self._producer.flush(30)

"""`TranscribeWorker` on the real broker: an answered call with a recording URL on
telephony.calls gets its transcript event (same call_id) on telephony.calls; the recording is
served over HTTP, the engine is an OpenAI-compatible stand-in (the embedded engine is tested in
test_engines.py), so this checks the flow, not the words."""

import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leakwatch.settings import Settings
from schemas.events import CallEvent
from schemas.topics import CALLS
from services.kafka_out import EventProducer
from services.transcribe.engines import OpenAIEngine
from services.transcribe.worker import TranscribeWorker
from streams.topology import ensure_topics
from tests.integration.services.kafka_read import read_all
from tests.integration.transcribe.test_engines import Transcriptions
from tests.support.speech import stereo_call

pytestmark = pytest.mark.kafka


def serve(data: bytes):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/rec/call.wav":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("content-type", "audio/wav")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_recorded_call_gets_its_transcript_event(kafka):
    run = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=kafka.bootstrap, topic_prefix=f"tr{run}.", app_id=f"tr-{run}",
                        broker_session_timeout_s=6, broker_heartbeat_interval_s=1)
    ensure_topics(settings)
    data, _ = stereo_call([(0, 0.2, "Добрый день."), (1, 1.5, "Дорого.")])
    files, engine_server = serve(data), Transcriptions()
    port = files.server_address[1]
    ts = datetime(2026, 11, 18, 10, 2, tzinfo=timezone.utc)
    base = dict(deal_id="bitrix24:p:759", ts=ts, direction="in", duration_s=60, vendor="bitrix24")
    calls = [CallEvent(event_id="e-rec", call_id="bitrix24:c-rec", status="answered",
                       recording_ref=f"http://127.0.0.1:{port}/rec/call.wav", **base),
             CallEvent(event_id="e-missed", call_id="bitrix24:c-missed", status="missed", **base),
             CallEvent(event_id="e-gone", call_id="bitrix24:c-gone", status="answered",
                       recording_ref=f"http://127.0.0.1:{port}/rec/missing.wav", **base)]
    producer = EventProducer(kafka.bootstrap, topic_prefix=settings.topic_prefix)
    for call in calls:
        producer.send(CALLS, call)
    producer.flush()
    worker = TranscribeWorker(settings, OpenAIEngine(engine_server.url, "whisper-1", None, max_retries=0), producer)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        deadline = datetime.now().timestamp() + 120
        while datetime.now().timestamp() < deadline:
            got = read_all(kafka.bootstrap, settings.topic(CALLS.name))
            letters = read_all(kafka.bootstrap, settings.topic("ingest.deadletter"))
            if any(v["event_id"] == "e-rec:transcript" for _, v in got) and letters:
                break
    finally:
        worker.stop()
        thread.join(30)
        files.shutdown()
        engine_server.close()
    [(key, transcript)] = [(k, v) for k, v in got if v["event_id"] == "e-rec:transcript"]
    assert key == b"bitrix24:p:759" and transcript["call_id"] == "bitrix24:c-rec"
    assert {t["speaker"] for t in transcript["transcript"]} == {"manager", "client"}
    assert not any(v["event_id"].startswith("e-missed:") for _, v in got)  # nothing to transcribe
    [letter] = [v for _, v in letters]
    assert "bitrix24:c-gone" in letter["error"] and "404" in letter["error"]
    assert len(engine_server.requests) == 2  # one recording, two channels

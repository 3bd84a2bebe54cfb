"""Both transcription engines on real audio: Russian speech synthesised by espeak-ng, a stereo
call with the manager on the left channel and the client on the right. espeak's voice is
robotic, so the assertions are about the mechanics (language, turns, timestamps, speakers),
not the exact words."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from leakwatch.settings import REPO_ROOT
from services.transcribe.engines import OpenAIEngine, WhisperEngine
from services.transcribe.model import packaged_model
from services.transcribe.recordings import transcribe_recording
from tests.support.speech import stereo_call

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
MANAGER_AT, CLIENT_AT = 0.3, 4.0


@pytest.fixture(scope="module")
def call_wav():
    return stereo_call([(0, MANAGER_AT, "Добрый день. Курс стоит сорок тысяч рублей."),
                        (1, CLIENT_AT, "Это дорого. Я подумаю.")])


def test_embedded_whisper_transcribes_each_channel_as_its_speaker(call_wav):
    data, duration = call_wav
    engine = WhisperEngine(str(packaged_model(REPO_ROOT / ".local" / "whisper-base")))
    turns = transcribe_recording(data, engine, language="ru", manager_channel=0)
    speakers = [t.speaker for t in turns]
    assert "manager" in speakers and "client" in speakers
    first_client = next(t for t in turns if t.speaker == "client")
    first_manager = next(t for t in turns if t.speaker == "manager")
    # Timestamps from the audio itself: the client starts speaking ~4 s in, the manager first.
    assert first_manager.offset_s < 1.5 and CLIENT_AT - 1.0 <= first_client.offset_s <= CLIENT_AT + 1.0
    assert turns == sorted(turns, key=lambda t: t.offset_s)
    assert all(CYRILLIC.search(t.text) for t in turns) and all(t.offset_s <= duration for t in turns)


class Transcriptions:
    """Answers POST /v1/audio/transcriptions like OpenAI's reference (verbose_json) and keeps
    what it was sent."""

    ANSWER = {"task": "transcribe", "language": "russian", "duration": 3.2, "text": "Это дорого. Я подумаю.",
              "segments": [{"id": 0, "seek": 0, "start": 0.4, "end": 1.6, "text": " Это дорого.", "tokens": [1],
                            "temperature": 0.0, "avg_logprob": -0.3, "compression_ratio": 1.1, "no_speech_prob": 0.01},
                           {"id": 1, "seek": 0, "start": 1.8, "end": 3.0, "text": " Я подумаю.", "tokens": [2],
                            "temperature": 0.0, "avg_logprob": -0.3, "compression_ratio": 1.1, "no_speech_prob": 0.01}],
              "usage": {"type": "duration", "seconds": 4}}

    def __init__(self):
        self.requests = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.requests.append((self.path, dict(self.headers), body))
                data = json.dumps(outer.ANSWER, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_openai_compatible_engine_sends_each_channel_and_reads_segments(call_wav):
    data, _ = call_wav
    server = Transcriptions()
    try:
        engine = OpenAIEngine(server.url, "whisper-large-v3", "sk-local", max_retries=0)
        turns = transcribe_recording(data, engine, language="ru", manager_channel=1)
    finally:
        server.close()
    assert len(server.requests) == 2  # one request per channel
    path, headers, body = server.requests[0]
    assert path == "/v1/audio/transcriptions" and {k.lower(): v for k, v in headers.items()}["authorization"] == "Bearer sk-local"
    for field, value in (("model", b"whisper-large-v3"), ("language", b"ru"), ("response_format", b"verbose_json")):
        assert re.search(rb'name="' + field.encode() + rb'"\r\n\r\n' + value, body), field
    assert b"RIFF" in body and b"WAVE" in body  # each channel as a 16 kHz mono WAV
    # Both channels answered the same: the right channel (1) is the manager's here.
    assert [(t.speaker, t.offset_s, t.text) for t in turns] == [
        ("client", 0.4, "Это дорого."), ("manager", 0.4, "Это дорого."),
        ("client", 1.8, "Я подумаю."), ("manager", 1.8, "Я подумаю.")]

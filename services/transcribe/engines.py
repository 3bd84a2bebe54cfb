"""Two transcription engines behind one interface: audio samples (16 kHz mono float32) in,
timed segments out.

- `OpenAIEngine`: any OpenAI-compatible `/v1/audio/transcriptions` endpoint (faster-whisper-
  server, vLLM, OpenAI itself) through the `openai` package; verbose_json gives segments.
- `WhisperEngine`: faster-whisper (CTranslate2) in-process, no network; the model directory is
  `LEAKWATCH_WHISPER_MODEL_DIR` or the multilingual Whisper base shipped on PyPI (model.py).
"""

from __future__ import annotations

import io
import wave
from typing import Protocol

import numpy as np

from services.transcribe.turns import Segment

SAMPLE_RATE = 16000


class Engine(Protocol):
    name: str

    def transcribe(self, samples: np.ndarray, language: str) -> list[Segment]: ...


def wav_bytes(samples: np.ndarray) -> bytes:
    """16-bit PCM WAV of one channel: what an HTTP engine is sent."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return out.getvalue()


class OpenAIEngine:
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None, *, timeout_s: float = 120.0,
                 max_retries: int = 2):
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed", timeout=timeout_s,
                              max_retries=max_retries)
        self._model = model

    def transcribe(self, samples: np.ndarray, language: str) -> list[Segment]:
        answer = self._client.audio.transcriptions.create(
            model=self._model, file=("channel.wav", wav_bytes(samples), "audio/wav"), language=language,
            response_format="verbose_json", timestamp_granularities=["segment"])
        segments = getattr(answer, "segments", None) or []
        if not segments and getattr(answer, "text", ""):
            return [Segment(0.0, len(samples) / SAMPLE_RATE, answer.text)]
        return [Segment(float(_get(s, "start")), float(_get(s, "end")), str(_get(s, "text"))) for s in segments]


def _get(item: object, name: str) -> object:
    return item[name] if isinstance(item, dict) else getattr(item, name)


class WhisperEngine:
    name = "faster-whisper"

    def __init__(self, model_dir: str, *, cpu_threads: int = 1, beam_size: int = 1):
        from faster_whisper import WhisperModel

        self._model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=cpu_threads)
        self._beam = beam_size

    def transcribe(self, samples: np.ndarray, language: str) -> list[Segment]:
        # Silero VAD (shipped inside faster-whisper): a call channel is half silence, which
        # is skipped, and segment times then come from where speech really starts.
        segments, _ = self._model.transcribe(samples.astype(np.float32), language=language, beam_size=self._beam,
                                             vad_filter=True, condition_on_previous_text=False)
        return [Segment(s.start, s.end, s.text) for s in segments]

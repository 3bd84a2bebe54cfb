"""Seconds of call audio transcribed per second by the embedded engine on one core
(a benchmark, not a test).

    python benchmarks/transcribe_speed.py [--turns 6] [--repeat 2]

A stereo call of Russian speech synthesised by espeak-ng (manager and client alternating,
one per channel), transcribed with faster-whisper (Whisper base, int8, cpu_threads=1, beam 1).
The model load is reported separately. Numbers on a shared machine vary with its load:
`uptime` is printed beside them.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from leakwatch.settings import REPO_ROOT  # noqa: E402
from services.transcribe.engines import WhisperEngine  # noqa: E402
from services.transcribe.model import packaged_model  # noqa: E402
from services.transcribe.recordings import transcribe_recording  # noqa: E402
from tests.support.speech import stereo_call  # noqa: E402

PHRASES = [
    (0, "Добрый день, школа программирования, меня зовут Анна."),
    (1, "Здравствуйте, я оставлял заявку на курс по питону."),
    (0, "Курс длится четыре месяца и стоит сорок тысяч рублей."),
    (1, "Это дорого, мне нужно подумать и посоветоваться."),
    (0, "Я отправлю вам программу курса сегодня на почту."),
    (1, "Хорошо, жду письмо, спасибо."),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    turns, at = [], 0.3
    for i in range(args.turns):
        ch, text = PHRASES[i % len(PHRASES)]
        turns.append((ch, at, text))
        at += 4.0
    data, duration = stereo_call(turns)
    started = time.perf_counter()
    engine = WhisperEngine(str(packaged_model(REPO_ROOT / ".local" / "whisper-base")), cpu_threads=1)
    load_s = time.perf_counter() - started
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = transcribe_recording(data, engine, language="ru", manager_channel=0)
        times.append(time.perf_counter() - t0)
    best = min(times)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"audio: {duration:.1f} s stereo ({args.turns} turns), model load {load_s:.1f} s")
    print(f"transcription: best {best:.1f} s of {args.repeat} runs -> {duration / best:.2f} s of audio per second "
          f"(one core), {len(result)} turns")
    print(f"machine: {load}")


if __name__ == "__main__":
    main()

"""Russian speech synthesised with espeak-ng (Debian package; .ci/run installs it): a stereo
call with the manager on one channel and the client on the other, each phrase at a known time."""

from __future__ import annotations

import io
import subprocess
import wave

import numpy as np


def say(text: str) -> tuple[np.ndarray, int]:
    wav = subprocess.run(["espeak-ng", "-v", "ru", "-s", "150", "--stdout", text], check=True,
                         capture_output=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        rate = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return samples, rate


def stereo_call(turns: list[tuple[int, float, str]]) -> tuple[bytes, float]:
    """turns: (channel, start second, text) -> (WAV bytes, duration in seconds)."""
    spoken = [(ch, start, *say(text)) for ch, start, text in turns]
    rate = spoken[0][3]
    length = max(int(start * rate) + len(samples) for _, start, samples, _ in spoken) + rate // 2
    channels = np.zeros((length, 2), dtype="<i2")
    for ch, start, samples, _ in spoken:
        at = int(start * rate)
        channels[at:at + len(samples), ch] = samples
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(channels.tobytes())
    return out.getvalue(), length / rate

"""A recording's bytes (wav, mp3, ogg... whatever FFmpeg reads, via PyAV) -> one 16 kHz float32
array per channel: a stereo call has one party per channel."""

from __future__ import annotations

import io

import numpy as np


def channels(data: bytes) -> list[np.ndarray]:
    import av
    from faster_whisper.audio import decode_audio

    with av.open(io.BytesIO(data)) as container:
        if not container.streams.audio:
            raise ValueError("the recording has no audio stream")
        count = container.streams.audio[0].codec_context.channels
    if count >= 2:
        left, right = decode_audio(io.BytesIO(data), split_stereo=True)
        return [left, right]
    return [decode_audio(io.BytesIO(data))]

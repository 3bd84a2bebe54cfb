"""Per-channel speech segments -> one conversation of manager/client turns. Pure.

PBXes record a call in stereo with one party per channel (Mango Office, Zadarma and Bitrix24
put the employee and the client on separate channels), so the channel says who speaks; which
channel is the manager's is a setting (LEAKWATCH_TRANSCRIBE_MANAGER_CHANNEL). A mono
recording cannot tell the speakers apart: its turns are all attributed to the client,
whose words the classifier weighs most, and the event says `speakers_split=False` in its log.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.events import TranscriptTurn


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    text: str


def conversation(channels: list[list[Segment]], manager_channel: int) -> list[TranscriptTurn]:
    """Turns in time order; ties keep channel order, empty texts are dropped."""
    if len(channels) == 1:
        speakers = ["client"]
    elif len(channels) == 2:
        speakers = ["manager", "client"] if manager_channel == 0 else ["client", "manager"]
    else:
        raise ValueError(f"expected a mono or stereo recording, got {len(channels)} channels")
    timed = [(seg.start_s, ch, seg) for ch, segs in enumerate(channels) for seg in segs if seg.text.strip()]
    timed.sort(key=lambda item: (item[0], item[1]))
    return [TranscriptTurn(speaker=speakers[ch], text=seg.text.strip(), offset_s=round(max(seg.start_s, 0.0), 2))
            for _, ch, seg in timed]

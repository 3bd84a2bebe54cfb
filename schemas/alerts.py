"""alerts.leak_spikes (public, schema version 1): the leak of a period is far above its
baseline, or salvageable refusals come in a burst. Keyed by alert_id, which is also the
idempotency key: the same alert may arrive twice (at-least-once) and means one alert."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class LeakSpikeAlert(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = 1
    alert_id: str = Field(min_length=1, max_length=200)
    # leak_above_baseline: value/baseline are roubles lost in the period and on an average
    # period; salvageable_burst: counts of salvageable refusals.
    kind: Literal["leak_above_baseline", "salvageable_burst"]
    period_start: AwareDatetime
    period_end: AwareDatetime
    pipeline: str | None = None  # None: all pipelines (producers drop None fields: see kafka_out)
    value: float = Field(ge=0)
    baseline: float = Field(ge=0)
    factor: float = Field(ge=0)  # value / baseline
    message_ru: str = Field(min_length=1)  # «Утечка дня ₽1 248 700 — на 64% выше среднего дня»
    created_at: AwareDatetime

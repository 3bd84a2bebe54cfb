"""What the targets post: one text for people, one JSON body for machines, and what a
dead letter needs to say where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from schemas.alerts import LeakSpikeAlert
from services.notifier.texts import alert_text


@dataclass(frozen=True)
class Notification:
    key: str  # idempotency key: the alert id, or a digest of a Grafana group's state
    text: str  # Russian, for Telegram and Slack
    body: dict  # the generic webhook's JSON
    origin: str  # the topic (or "grafana") named by a dead letter
    raw: bytes  # the payload as received, kept whole in a dead letter
    partition: int | None = None
    offset: int | None = None


def from_alert(alert: LeakSpikeAlert, raw: bytes, tz: ZoneInfo, *, origin: str,
               partition: int | None = None, offset: int | None = None) -> Notification:
    text = alert_text(alert, tz)
    body = {"source": "leakwatch", "idempotency_key": alert.alert_id, "text": text,
            "alert": alert.model_dump(mode="json")}
    return Notification(key=alert.alert_id, text=text, body=body, origin=origin, raw=raw,
                        partition=partition, offset=offset)

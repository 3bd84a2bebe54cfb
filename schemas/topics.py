"""Every topic declared once: name, key, model, and who may read it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas import alerts, events


@dataclass(frozen=True)
class TopicSpec:
    name: str
    model: type[BaseModel]
    key_field: str
    public: bool  # part of the contract with downstream services
    retention_h: float | None = None  # None: the broker's default; a setting may override


DEALS = TopicSpec("crm.deals", events.DealEvent, "deal_id", public=False)
CALLS = TopicSpec("telephony.calls", events.CallEvent, "deal_id", public=False)
ACTIVITIES = TopicSpec("crm.activities", events.ActivityEvent, "deal_id", public=False)
REVIEWS = TopicSpec("refusals.reviewed", events.RefusalReview, "deal_id", public=True)
CLASSIFIED = TopicSpec("refusals.classified", events.ClassifiedRefusal, "deal_id", public=True)
DEADLETTER = TopicSpec("deadletter", events.DeadLetter, "key", public=True)
LEAK_SPIKES = TopicSpec("alerts.leak_spikes", alerts.LeakSpikeAlert, "alert_id", public=True)
# The gateway's raw vendor bodies hold phones and transcripts: private, and kept briefly
# (LEAKWATCH_INGEST_DEADLETTER_RETENTION_H). Retries hold webhooks whose vendor lookup failed.
INGEST_DEADLETTER = TopicSpec("ingest.deadletter", events.DeadLetter, "key", public=False, retention_h=72)
INGEST_RETRIES = TopicSpec("ingest.retries", events.DeadLetter, "key", public=False, retention_h=72)
INGEST_PRIVATE = (INGEST_DEADLETTER, INGEST_RETRIES)

# Events that change a deal's state, all keyed by deal_id with the same partition count,
# so one worker holds a deal's whole state (Faust tables are co-partitioned with them).
INPUTS = (DEALS, CALLS, ACTIVITIES, REVIEWS)
ALL = (*INPUTS, CLASSIFIED, DEADLETTER, LEAK_SPIKES, *INGEST_PRIVATE)
BY_NAME = {spec.name: spec for spec in ALL}

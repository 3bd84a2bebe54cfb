"""Every topic declared once: name, key, model, and who may read it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas import alerts, events, reactivation


@dataclass(frozen=True)
class TopicSpec:
    name: str
    model: type[BaseModel]
    key_field: str
    public: bool  # part of the contract with downstream services
    retention_h: float | None = None  # None: the broker's default; a setting may override
    compacted: bool = False  # cleanup.policy=compact: the newest record per key is the state


DEALS = TopicSpec("crm.deals", events.DealEvent, "deal_id", public=False)
CALLS = TopicSpec("telephony.calls", events.CallEvent, "deal_id", public=False)
ACTIVITIES = TopicSpec("crm.activities", events.ActivityEvent, "deal_id", public=False)
REVIEWS = TopicSpec("refusals.reviewed", events.RefusalReview, "deal_id", public=True)
CLASSIFIED = TopicSpec("refusals.classified", events.ClassifiedRefusal, "deal_id", public=True)
DEADLETTER = TopicSpec("deadletter", events.DeadLetter, "key", public=True, retention_h=30 * 24)
LEAK_SPIKES = TopicSpec("alerts.leak_spikes", alerts.LeakSpikeAlert, "alert_id", public=True)
# The «Воронка отказов», derived from CLASSIFIED by services/reactivation; compacted: the
# newest entry per deal is the list.
REACTIVATION = TopicSpec("refusals.reactivation", reactivation.ReactivationEntry, "deal_id", public=True,
                         compacted=True)
# The gateway's raw vendor bodies hold phones and transcripts: private, and kept briefly
# (LEAKWATCH_INGEST_DEADLETTER_RETENTION_H). Retries hold webhooks whose vendor lookup failed.
INGEST_DEADLETTER = TopicSpec("ingest.deadletter", events.DeadLetter, "key", public=False, retention_h=72)
INGEST_RETRIES = TopicSpec("ingest.retries", events.DeadLetter, "key", public=False, retention_h=72)
INGEST_PRIVATE = (INGEST_DEADLETTER, INGEST_RETRIES)

# Events that change a deal's state, all keyed by deal_id with the same partition count,
# so one worker holds a deal's whole state (Faust tables are co-partitioned with them).
INPUTS = (DEALS, CALLS, ACTIVITIES, REVIEWS)
ALL = (*INPUTS, CLASSIFIED, DEADLETTER, LEAK_SPIKES, REACTIVATION, *INGEST_PRIVATE)
BY_NAME = {spec.name: spec for spec in ALL}

# The worker's own topics, co-partitioned with the inputs (same key, same partition count).
REFUSAL_REQUESTS = TopicSpec("leakwatch.refusal-requests", events.RefusalRequest, "deal_id", public=False,
                             retention_h=7 * 24)
WON_DEALS = TopicSpec("leakwatch.won-deals", events.WonDeal, "deal_id", public=False, retention_h=7 * 24)
INTERNAL = (REFUSAL_REQUESTS, WON_DEALS)

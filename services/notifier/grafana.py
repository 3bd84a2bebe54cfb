"""Grafana's alerting webhook (contact point type "webhook") -> one Notification. Pure.

Grafana posts a group: {"receiver", "status", "groupKey", "alerts": [{"status", "labels",
"annotations", "startsAt", "endsAt", "fingerprint", "values", ...}], ...}. It re-sends a
group on every repeat interval; the key covers each alert's state, so the same state is
posted once (the dispatcher's ledger keeps it across restarts) and a new firing or a
resolution is posted again.
"""

from __future__ import annotations

import hashlib

import orjson

from services.notifier.notification import Notification
from services.notifier.texts import clip

ORIGIN = "grafana"
SHOWN = 10  # alerts listed in one message; the rest are counted


def notification(payload: object, raw: bytes) -> Notification:
    if not isinstance(payload, dict):
        raise ValueError("expected Grafana's webhook JSON object")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts or not all(isinstance(a, dict) for a in alerts):
        raise ValueError("no `alerts` list in the payload")
    state = sorted((str(a.get("fingerprint", "")), str(a.get("startsAt", "")), str(a.get("status", "")))
                   for a in alerts)
    digest = hashlib.sha1(orjson.dumps([payload.get("groupKey"), state])).hexdigest()[:20]
    firing = [a for a in alerts if a.get("status") != "resolved"]
    title = (f"🔴 Grafana: сработало ({len(firing)})" if firing
             else f"✅ Grafana: восстановлено ({len(alerts)})")
    lines = [title]
    for alert in (firing or alerts)[:SHOWN]:
        labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
        notes = alert.get("annotations") if isinstance(alert.get("annotations"), dict) else {}
        name = labels.get("alertname") or "alert"
        detail = notes.get("summary") or notes.get("description") or ""
        where = f" [{labels['pipeline']}]" if labels.get("pipeline") else ""
        lines.append(f"• {name}{where}" + (f": {detail}" if detail else ""))
    if len(firing or alerts) > SHOWN:
        lines.append(f"…и ещё {len(firing or alerts) - SHOWN}")
    text = clip("\n".join(lines))
    key = f"grafana:{digest}"
    return Notification(key=key, text=text, origin=ORIGIN, raw=raw,
                        body={"source": "grafana", "idempotency_key": key, "text": text, "grafana": payload})

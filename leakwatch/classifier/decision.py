"""How the embedded engine turns facts and head probabilities into one verdict.

- Not target: a clear rule cue (wrong number, job seeker, vendor, spam, duplicate) or the
  target head.
- Leak: the timeline decides the two after-call leaks (a broken «пришлю КП» is
  «Не отправили материалы после звонка», a broken «перезвоню» or a client left waiting
  is «Не связались вовремя»); otherwise the leak head picks among none / not closed /
  objection. Kind follows: no leak means a real refusal.
- Hot: the client asked for an invoice/contract/date/payment, or the hot head says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.conversation import Labels
from leakwatch.classifier.embedding_model import NO_LEAK
from leakwatch.classifier.facts import SLOW_RESPONSE, quote
from leakwatch.classifier.features import Reading
from schemas.labels import Kind, Leak, Reason

FACT_CONFIDENCE = 0.9  # a leak read off the CRM timeline is a fact, not a guess
RULE_CONFIDENCE = 0.9
# Leaks the timeline decides; the leak head may not pick them on its own.
FACT_LEAKS = (Leak.NO_MATERIALS.value, Leak.LATE_CALLBACK.value)

Probabilities = dict[str, dict[str, float]]


@dataclass(frozen=True)
class Verdict:
    labels: Labels
    confidence: float
    evidence: str


def non_target_cue(r: Reading) -> str | None:
    """The cue name when the CRM or the words say this was never a sales lead."""
    if r.non_target_cues.get("crm_marked"):
        return "crm_marked"  # «Сделка закрыта: спам», «… (дубль)»: the CRM knows
    if r.facts.hot:  # a client asking for an invoice is a buyer, whatever else was said
        return None
    return next((name for name, hits in r.non_target_cues.items() if hits), None)


def fact_leak(r: Reading) -> tuple[Leak, str] | None:
    """A leak the timeline proves, with the quote that shows it."""
    f = r.facts
    broken_materials = f.broken("materials")
    if broken_materials:
        return Leak.NO_MATERIALS, (f.not_received_complaints or (broken_materials[0].quote,))[0]
    broken_callbacks = f.broken("callback")
    if broken_callbacks:
        return Leak.LATE_CALLBACK, (f.no_callback_complaints or (broken_callbacks[0].quote,))[0]
    slow_first = f.first_response_delay is not None and f.first_response_delay > SLOW_RESPONSE
    if slow_first or f.missed_calls_returned_late:
        return Leak.LATE_CALLBACK, _last_words(r)
    return None


def _last_words(r: Reading) -> str:
    """The fallback quote: the client's last words, else the manager's (a ghosted chat)."""
    lines = r.client_lines or r.manager_lines
    return lines[-1] if lines else ""


def _best(probs: dict[str, float], allowed: tuple[str, ...] | None = None) -> tuple[str, float]:
    candidates = {k: v for k, v in probs.items() if allowed is None or k in allowed}
    label = max(candidates, key=candidates.get)
    total = sum(candidates.values())
    return label, candidates[label] / total if total else 0.0


def decide(r: Reading, p: Probabilities, evidence_line: str | None) -> Verdict:
    cue = non_target_cue(r)
    p_target = p["target"]["target"]
    if cue is not None or p_target < 0.5:
        confidence = RULE_CONFIDENCE if cue is not None else 1.0 - p_target
        return Verdict(Labels(target=False), confidence, quote(_last_words(r)))

    reason, p_reason = _best(p["reason"])
    proven = fact_leak(r)
    if proven is not None:
        leak, evidence = proven[0].value, proven[1] or _last_words(r)
        p_leak = FACT_CONFIDENCE
    else:
        allowed = tuple(k for k in p["leak"] if k not in FACT_LEAKS)
        leak, p_leak = _best(p["leak"], allowed)
        evidence = evidence_line or _last_words(r)
    hot = r.facts.hot or p["hot"]["hot"] >= 0.5
    labels = Labels(
        target=True,
        reason=Reason(reason),
        kind=Kind.REAL if leak == NO_LEAK else Kind.SALVAGEABLE,
        leak=None if leak == NO_LEAK else Leak(leak),
        hot=hot,
    )
    # Geometric mean: one unsure head makes the whole verdict unsure.
    confidence = (p_target * p_reason * p_leak) ** (1 / 3)
    return Verdict(labels, round(confidence, 3), quote(evidence))

"""How the embedded engine turns facts and head probabilities into one verdict.

Rules decide only where they are precise; elsewhere the facts are features of the heads,
and no rule overrides a head that is confident.
- Not target: the CRM marked it (spam, duplicate), or a clear cue (wrong number, job
  seeker, vendor) the target head does not confidently contradict, or the target head.
- Leak: a broken promise or a late first reply the timeline proves names the after-call
  leak («Не отправили материалы после звонка», «Не связались вовремя») unless the leak
  head is confident of another answer; otherwise the leak head picks. Kind follows: no
  leak means a real refusal.
- Hot: the hot head decides (it already reads the readiness phrases as features); the
  phrase rule (facts.hot: an invoice, contract, booking, payment asked for) may tip only
  an unsure head, never one confidently cold: the phrases also fire on a vendor's
  «Пишите «ХОЧУ»» or a question «через какую систему бронируете?».
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
class Policy:
    """How far rules may go against the heads."""

    # A head this sure is not overruled by a keyword cue or a timeline fact.
    confident: float = 0.7
    # Without a proving fact the leak head may name an after-call leak only this sure.
    unproven_fact_leak: float = 0.6
    # The hot head is trained class-balanced, so it leans to «hot»; it must be this sure.
    hot: float = 0.6
    # Below this the head is confidently cold and the phrase rule cannot tip it to hot.
    hot_rule_floor: float = 0.3


@dataclass(frozen=True)
class Verdict:
    labels: Labels
    confidence: float
    evidence: str
    raw_confidence: float | None = None  # before calibration (set by the engine's judge)


def non_target_cue(r: Reading, p_target: float = 0.0, policy: Policy = Policy()) -> str | None:
    """The cue name when the CRM or the words say this was never a sales lead."""
    if r.non_target_cues.get("crm_merged"):
        return "crm_merged"  # merged into another deal: the CRM knows
    if r.facts.hot:  # a client asking for an invoice is a buyer, whatever else was said
        return None
    if p_target >= policy.confident:  # a keyword is no veto over a confident head
        return None
    return next((name for name, hits in r.non_target_cues.items() if hits), None)


def is_hot(r: Reading, p_hot: float, policy: Policy = Policy()) -> bool:
    """The hot head's call; the readiness phrase rule only breaks an unsure head's tie."""
    if p_hot >= policy.hot:
        return True
    return r.facts.hot and p_hot > policy.hot_rule_floor


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


def decide(r: Reading, p: Probabilities, evidence_line: str | None, policy: Policy = Policy()) -> Verdict:
    p_target = p["target"]["target"]
    cue = non_target_cue(r, p_target, policy)
    if cue is not None or p_target < 0.5:
        confidence = RULE_CONFIDENCE if cue is not None else 1.0 - p_target
        return Verdict(Labels(target=False), confidence, quote(_last_words(r)))

    reason, p_reason = _best(p["reason"])
    proven = fact_leak(r)
    head_leak, p_head = _best(p["leak"])
    if proven is not None and not (p_head >= policy.confident and head_leak != proven[0].value):
        leak, evidence = proven[0].value, proven[1] or _last_words(r)
        p_leak = max(FACT_CONFIDENCE, p["leak"][leak])
    else:
        leak, p_leak = head_leak, p_head
        if leak in FACT_LEAKS and p_head < policy.unproven_fact_leak:
            leak, p_leak = _best(p["leak"], tuple(k for k in p["leak"] if k not in FACT_LEAKS))
        evidence = evidence_line or _last_words(r)
    hot = is_hot(r, p["hot"]["hot"], policy)
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

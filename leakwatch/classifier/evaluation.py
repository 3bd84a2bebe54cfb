"""Quality of a classifier against gold labels: pure arithmetic, no I/O.

Definitions (the dev-set targets are stated in these terms):
- target, hot: accuracy over all items.
- reason, kind, leak: accuracy over gold-TARGET items; predicting «not target» for one of
  them counts as wrong. `leak` compares the leak label including «none» (a real refusal
  has none), `leak_salvageable` only over gold-salvageable items (the four-way question).
- kind macro-F1: mean F1 of salvageable and real over gold-target items.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Sequence

from leakwatch.classifier.calibration import verdict_correct
from schemas.conversation import Labels
from schemas.labels import Kind, Reason

NONE = "—"  # how a missing label shows in the confusion table


@dataclass(frozen=True)
class Metric:
    correct: int
    total: int

    @property
    def value(self) -> float:
        return self.correct / self.total if self.total else float("nan")


@dataclass(frozen=True)
class Report:
    items: int
    accuracy: dict[str, Metric]
    kind_f1: dict[str, float]
    # (gold reason, predicted reason or NONE) -> count, over gold-target items
    reason_confusion: Counter = field(default_factory=Counter)
    # (gold, predicted) -> count: kind and leak over gold-target items, hot over all
    kind_confusion: Counter = field(default_factory=Counter)
    leak_confusion: Counter = field(default_factory=Counter)
    hot_confusion: Counter = field(default_factory=Counter)

    @property
    def kind_macro_f1(self) -> float:
        return sum(self.kind_f1.values()) / len(self.kind_f1) if self.kind_f1 else float("nan")


def _accuracy(pairs: Sequence[tuple[object, object]]) -> Metric:
    return Metric(sum(1 for g, p in pairs if g == p), len(pairs))


def f1_per_class(pairs: Sequence[tuple[object, object]], classes: Sequence[object]) -> dict[str, float]:
    scores = {}
    for cls in classes:
        tp = sum(1 for g, p in pairs if g == cls and p == cls)
        fp = sum(1 for g, p in pairs if g != cls and p == cls)
        fn = sum(1 for g, p in pairs if g == cls and p != cls)
        denominator = 2 * tp + fp + fn
        scores[str(cls)] = 2 * tp / denominator if denominator else 0.0
    return scores


def evaluate(gold: Sequence[Labels], predicted: Sequence[Labels]) -> Report:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    pairs = list(zip(gold, predicted))
    targets = [(g, p) for g, p in pairs if g.target]
    salvageable = [(g, p) for g, p in targets if g.kind == Kind.SALVAGEABLE]
    kind_pairs = [(g.kind, p.kind) for g, p in targets]
    accuracy = {
        "target": _accuracy([(g.target, p.target) for g, p in pairs]),
        "reason": _accuracy([(g.reason, p.reason) for g, p in targets]),
        "kind": _accuracy(kind_pairs),
        "leak": _accuracy([(g.leak, p.leak) for g, p in targets]),
        "leak_salvageable": _accuracy([(g.leak, p.leak) for g, p in salvageable]),
        "hot": _accuracy([(g.hot, p.hot) for g, p in pairs]),
    }
    confusion = Counter((str(g.reason), str(p.reason) if p.reason else NONE) for g, p in targets)
    return Report(
        len(pairs), accuracy, f1_per_class(kind_pairs, list(Kind)), confusion,
        kind_confusion=Counter((str(g), str(p) if p else NONE) for g, p in kind_pairs),
        leak_confusion=Counter((str(g.leak) if g.leak else NONE, str(p.leak) if p.leak else NONE) for g, p in targets),
        hot_confusion=Counter((g.hot, p.hot) for g, p in pairs),
    )


@dataclass(frozen=True)
class ReviewSplit:
    """What a review threshold does: verdicts below it go to a QA lead («Условный отказ»
    flagged for review), the rest count as the AI's. `confident` and `reviewed` are the
    reports of the two parts; `*_correct` count whole verdicts a QA lead would sign
    (calibration.verdict_correct: target, reason, kind and leak all right)."""

    threshold: float
    flagged: int
    total: int
    confident: Report
    reviewed: Report | None = None
    confident_correct: Metric = Metric(0, 0)
    reviewed_correct: Metric = Metric(0, 0)

    @property
    def share_flagged(self) -> float:
        return self.flagged / self.total if self.total else float("nan")


def review_split(gold: Sequence[Labels], predicted: Sequence[Labels], confidence: Sequence[float],
                 threshold: float, *, targets_only: bool = False) -> ReviewSplit:
    """`targets_only`: flag as the product does (domain.refusals: only a verdict that calls
    the deal a target refusal goes to review; a «not target» verdict is never flagged)."""
    def flagged(p: Labels, c: float) -> bool:
        return c < threshold and (p.target or not targets_only)

    triples = list(zip(gold, predicted, confidence))
    kept = [(g, p) for g, p, c in triples if not flagged(p, c)]
    sent = [(g, p) for g, p, c in triples if flagged(p, c)]

    def signed(pairs: list[tuple[Labels, Labels]]) -> Metric:
        return Metric(sum(1 for g, p in pairs if verdict_correct(g, p)), len(pairs))

    return ReviewSplit(threshold, len(sent), len(triples),
                       evaluate([g for g, _ in kept], [p for _, p in kept]),
                       evaluate([g for g, _ in sent], [p for _, p in sent]),
                       signed(kept), signed(sent))


def confusion_rows(report: Report) -> tuple[list[str], list[list[int]]]:
    """Reason labels (gold rows, predicted columns + NONE) and the counts, in label order."""
    labels = [str(r) for r in Reason]
    columns = labels + [NONE]
    rows = [[report.reason_confusion.get((g, p), 0) for p in columns] for g in labels]
    return columns, rows

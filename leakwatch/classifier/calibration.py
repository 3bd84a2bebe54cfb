"""Confidence that means what it says: a monotone map from the engine's raw score (the
heads' geometric mean) to the share of verdicts that were right at that score.

The map is fitted on out-of-fold verdicts: the bank is split by writer, each writer's
deals are judged by heads trained without that writer, and isotonic regression (pool
adjacent violators) maps each raw score to the observed accuracy. So "0.8" is what the
engine scored on writing it had not seen, not on its own examples. Pure numpy, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from schemas.conversation import Labels

# With few out-of-fold verdicts at the extremes, keep the map away from a flat 0 or 1:
# one lucky block must not make the engine "certain".
FLOOR, CEILING = 0.05, 0.98
# Blocks this small are pooled with a neighbour so one verdict does not set a plateau.
MIN_BLOCK = 8


def verdict_correct(gold: Labels, predicted: Labels) -> bool:
    """The refusal verdict a QA lead would sign as is: target, and for a target deal the
    reason, the kind and the leak. (Hot is a separate flag with its own head.)"""
    if gold.target != predicted.target:
        return False
    if not gold.target:
        return True
    return gold.reason == predicted.reason and gold.kind == predicted.kind and gold.leak == predicted.leak


@dataclass(frozen=True)
class Isotonic:
    """A non-decreasing step map, linear between the centres of its blocks."""

    x: np.ndarray  # block centres (mean raw score), increasing
    y: np.ndarray  # block accuracy, non-decreasing

    @classmethod
    def fit(cls, scores: Sequence[float], outcomes: Sequence[bool], min_block: int = MIN_BLOCK) -> "Isotonic":
        if len(scores) != len(outcomes) or not len(scores):
            raise ValueError("calibration needs as many outcomes as scores, and at least one")
        order = np.argsort(np.asarray(scores, dtype=np.float64), kind="stable")
        s = np.asarray(scores, dtype=np.float64)[order]
        o = np.asarray(outcomes, dtype=np.float64)[order]
        # Blocks: [sum of scores, sum of outcomes, count]; merge while order is violated or a block is tiny.
        blocks: list[list[float]] = []
        for si, oi in zip(s, o):
            blocks.append([si, oi, 1.0])
            while len(blocks) > 1 and (
                blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2] or blocks[-2][2] < min_block
            ):
                a, b = blocks[-2], blocks.pop()
                a[0] += b[0]
                a[1] += b[1]
                a[2] += b[2]
        # The last block may still be small: pool it with its neighbour.
        if len(blocks) > 1 and blocks[-1][2] < min_block:
            b = blocks.pop()
            blocks[-1] = [blocks[-1][0] + b[0], blocks[-1][1] + b[1], blocks[-1][2] + b[2]]
        x = np.array([b[0] / b[2] for b in blocks])
        y = np.clip(np.array([b[1] / b[2] for b in blocks]), FLOOR, CEILING)
        return cls(x, np.maximum.accumulate(y))

    def __call__(self, score: float) -> float:
        return float(np.interp(score, self.x, self.y))


@dataclass(frozen=True)
class ReliabilityRow:
    low: float
    high: float
    items: int
    predicted: float  # mean confidence in the bin
    observed: float  # share correct in the bin


def reliability(confidence: Sequence[float], correct: Sequence[bool],
                edges: Sequence[float] = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)) -> tuple[list[ReliabilityRow], float]:
    """Rows per confidence bin and the expected calibration error (the item-weighted mean
    gap between predicted and observed accuracy)."""
    c = np.asarray(confidence, dtype=np.float64)
    ok = np.asarray(correct, dtype=np.float64)
    rows, gap = [], 0.0
    for i, (low, high) in enumerate(zip(edges[:-1], edges[1:])):
        last = i == len(edges) - 2
        mask = (c >= low) & ((c <= high) if last else (c < high))
        n = int(mask.sum())
        if not n:
            rows.append(ReliabilityRow(low, high, 0, float("nan"), float("nan")))
            continue
        predicted, observed = float(c[mask].mean()), float(ok[mask].mean())
        rows.append(ReliabilityRow(low, high, n, predicted, observed))
        gap += n * abs(predicted - observed)
    return rows, gap / len(c) if len(c) else float("nan")

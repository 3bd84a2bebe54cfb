"""The learned half of the embedded engine: sentence embeddings of the client's and the
manager's lines plus the fact vector, and one softmax regression per label head,
trained on the example bank when the engine first runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from leakwatch.classifier import encoder
from leakwatch.classifier.features import Reading, fact_vector, hot_vector
from leakwatch.classifier.labelled import Labelled
from leakwatch.classifier.linear_model import SoftmaxRegression
from schemas.labels import Leak, Reason

NO_LEAK = "none"
HEAD_CLASSES: dict[str, tuple[str, ...]] = {
    "target": ("target", "non_target"),
    "reason": tuple(r.value for r in Reason),
    "leak": (NO_LEAK, *(leak.value for leak in Leak)),
    "hot": ("hot", "cold"),
}
# Heads that only make sense for a target refusal are trained on target examples only.
TARGET_ONLY_HEADS = frozenset({"reason", "leak"})
# Heads that see the hot-only columns (features.hot_vector) at the end of each row.
HOT_COLUMN_HEADS = frozenset({"hot"})


@dataclass(frozen=True)
class Encoded:
    """One batch: a feature row per conversation and each client line's embedding."""

    features: np.ndarray
    client_lines: list[np.ndarray]

    def take(self, rows: list[int]) -> "Encoded":
        return Encoded(self.features[rows], [self.client_lines[i] for i in rows])


@dataclass(frozen=True)
class Tuning:
    l2: float = 30.0
    fact_weight: float = 3.0  # facts are few columns next to 1 536: let them speak louder
    steps: int = 1000


def _mean(rows: np.ndarray) -> np.ndarray:
    if not len(rows):
        return np.zeros(encoder.DIM, dtype=np.float32)
    v = rows.mean(axis=0)
    n = np.linalg.norm(v)
    return v / n if n else v


def encode_readings(readings: list[Reading], tuning: Tuning = Tuning()) -> Encoded:
    texts: list[str] = []
    for r in readings:
        texts.extend(r.client_lines)
        texts.extend(r.manager_lines)
    vectors = encoder.encode(texts)  # one flat batch for the whole call
    rows, client_lines, pos = [], [], 0
    for r in readings:
        client = vectors[pos : pos + len(r.client_lines)]
        pos += len(r.client_lines)
        manager = vectors[pos : pos + len(r.manager_lines)]
        pos += len(r.manager_lines)
        last = client[-1] if len(client) else np.zeros(encoder.DIM, dtype=np.float32)
        rows.append(np.concatenate([_mean(client), last, _mean(manager)]))
        client_lines.append(client)
    facts = np.stack([np.concatenate([fact_vector(r), hot_vector(r)]) for r in readings]) if readings else np.zeros((0, 0))
    return Encoded(np.hstack([np.asarray(rows, dtype=np.float64), facts]) if readings else facts, client_lines)


def head_label(head: str, example: Labelled) -> str:
    gold = example.gold
    if head == "target":
        return "target" if gold.target else "non_target"
    if head == "reason":
        return str(gold.reason)
    if head == "leak":
        return str(gold.leak) if gold.leak else NO_LEAK
    return "hot" if gold.hot else "cold"


class EmbeddingModel:
    def __init__(self, heads: dict[str, SoftmaxRegression], reason_directions: np.ndarray,
                 columns: dict[str, int] | None = None) -> None:
        self.heads = heads
        # head -> how many leading columns of a row it reads (None: all of them)
        self.columns = columns or {}
        self.reason_directions = reason_directions  # (reasons, 512): what each reason sounds like
        # Raw score -> observed accuracy, fitted on out-of-fold verdicts (embedded.train_calibrated):
        # one map for refusal verdicts, one for «not target» verdicts (None: the first serves both).
        self.calibrator: Callable[[float], float] | None = None
        self.non_target_calibrator: Callable[[float], float] | None = None

    @classmethod
    def train(cls, examples: list[Labelled], readings: list[Reading], encoded: Encoded,
              tuning: Tuning = Tuning()) -> "EmbeddingModel":
        x = encoded.features
        n_facts = len(fact_vector(readings[0])) + len(hot_vector(readings[0]))
        shared = x.shape[1] - len(hot_vector(readings[0]))
        weights = np.ones(x.shape[1])
        weights[x.shape[1] - n_facts :] = tuning.fact_weight
        heads, columns = {}, {}
        for head, classes in HEAD_CLASSES.items():
            width = x.shape[1] if head in HOT_COLUMN_HEADS else shared
            rows = [i for i, e in enumerate(examples) if e.gold.target or head not in TARGET_ONLY_HEADS]
            labels = [head_label(head, examples[i]) for i in rows]
            model = SoftmaxRegression(classes, l2=tuning.l2, steps=tuning.steps, column_weight=weights[:width])
            heads[head] = model.fit(x[rows, :width], labels)
            columns[head] = width
        return cls(heads, cls._reason_directions(examples, encoded), columns)

    @staticmethod
    def _reason_directions(examples: list[Labelled], encoded: Encoded) -> np.ndarray:
        """Per reason: mean client-line embedding of its examples minus the overall mean."""
        dim = encoder.DIM
        client_means = encoded.features[:, :dim]
        overall = client_means.mean(axis=0)
        directions = np.zeros((len(Reason), dim))
        for k, reason in enumerate(Reason):
            rows = [i for i, e in enumerate(examples) if e.gold.reason == reason]
            if rows:
                directions[k] = client_means[rows].mean(axis=0) - overall
        return directions

    def probabilities(self, encoded: Encoded) -> list[dict[str, dict[str, float]]]:
        """Per conversation: head -> class -> probability."""
        per_head = {head: model.predict_proba(encoded.features[:, : self.columns.get(head)])
                    for head, model in self.heads.items()}
        return [
            {head: dict(zip(HEAD_CLASSES[head], map(float, probs[i]))) for head, probs in per_head.items()}
            for i in range(len(encoded.features))
        ]

    def best_line(self, client_lines: np.ndarray, reason: Reason) -> int | None:
        """Index of the client line that sounds most like `reason` (for the evidence quote)."""
        if not len(client_lines):
            return None
        k = list(Reason).index(reason)
        return int(np.argmax(client_lines @ self.reason_directions[k]))

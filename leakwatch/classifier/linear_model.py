"""A multinomial logistic regression in numpy, trained at load time on the example bank.

The bank is small (~150 conversations) next to the feature width (embeddings + facts),
so the model is strongly L2-regularised; full-batch Nesterov gradient descent in the
examples' span fits it in well under a second."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SoftmaxRegression:
    classes: tuple[str, ...]
    l2: float = 1.0
    steps: int = 1000
    tolerance: float = 1e-6  # stop once the gradient is this small
    class_weight: str | None = "balanced"  # rare leaks still count in the loss
    # Multiplies each standardised column: a larger weight means less regularisation,
    # so a handful of fact columns can count next to hundreds of embedding columns.
    column_weight: np.ndarray | None = None
    weights: np.ndarray | None = None
    bias: np.ndarray | None = None
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def fit(self, x: np.ndarray, labels: list[str]) -> "SoftmaxRegression":
        x = np.asarray(x, dtype=np.float64)
        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0) + 1e-6
        if self.column_weight is not None:
            self.scale = self.scale / self.column_weight
        z = (x - self.mean) / self.scale
        n, d = z.shape
        k = len(self.classes)
        y = np.zeros((n, k))
        index = {c: i for i, c in enumerate(self.classes)}
        y[np.arange(n), [index[label] for label in labels]] = 1.0
        if self.class_weight == "balanced":
            counts = y.sum(axis=0)
            per_class = np.where(counts > 0, n / (k * np.maximum(counts, 1)), 0.0)
            sample_weight = y @ per_class
        else:
            sample_weight = np.ones(n)
        sample_weight = sample_weight / sample_weight.sum()

        # With fewer examples than columns, the L2-optimal weights lie in the span of the
        # examples: solve in that n-dimensional basis (same optimum, much cheaper steps).
        _, singular, basis = np.linalg.svd(z, full_matrices=False)
        zr = z @ basis.T
        reg = self.l2 / n
        # Step 1/L with L the exact curvature bound (softmax Hessian <= 1/2 per sample).
        lipschitz = 0.5 * float(np.linalg.norm(zr * np.sqrt(sample_weight)[:, None], 2) ** 2) + reg
        w, b = _nesterov(zr, y, sample_weight, reg, 1.0 / lipschitz, self.steps, self.tolerance)
        self.weights, self.bias = basis.T @ w, b
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        assert self.weights is not None, "fit first"
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return _softmax(z @ self.weights + self.bias)


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def _nesterov(z, y, sample_weight, reg, step, max_steps, tolerance):
    n, d = z.shape
    k = y.shape[1]
    w, b = np.zeros((d, k)), np.zeros(k)
    prev_w, prev_b = w, b
    for t in range(1, max_steps + 1):
        momentum = (t - 1) / (t + 2)
        lw, lb = w + momentum * (w - prev_w), b + momentum * (b - prev_b)
        g = (_softmax(z @ lw + lb) - y) * sample_weight[:, None]
        gw, gb = z.T @ g + reg * lw, g.sum(axis=0)
        prev_w, prev_b = w, b
        w, b = lw - step * gw, lb - step * gb
        if np.sqrt((gw**2).sum() + (gb**2).sum()) < tolerance:
            break
    return w, b

"""judge maps a refusal verdict and a «not target» verdict through their own calibrators."""

from __future__ import annotations

import numpy as np

from leakwatch.classifier.calibration import Isotonic
from leakwatch.classifier.embedded import judge
from leakwatch.classifier.embedding_model import HEAD_CLASSES, Encoded, EmbeddingModel
from leakwatch.classifier.features import read
from leakwatch.classifier.linear_model import SoftmaxRegression
from schemas.labels import Reason

from tests.unit.classifier.builders import conversation


def _model() -> EmbeddingModel:
    # Two columns; the target head learns «column 0 > 0 is a target deal».
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 2))
    heads = {}
    for head, classes in HEAD_CLASSES.items():
        labels = ([("target" if v > 0 else "non_target") for v in x[:, 0]] if head == "target"
                  else [classes[i % len(classes)] for i in range(len(x))])
        heads[head] = SoftmaxRegression(classes, steps=200).fit(x, labels)
    return EmbeddingModel(heads, np.zeros((len(Reason), 2)))


def test_each_kind_of_verdict_has_its_own_calibrator():
    model = _model()
    model.calibrator = Isotonic(np.array([0.0, 1.0]), np.array([0.2, 0.2]))
    model.non_target_calibrator = Isotonic(np.array([0.0, 1.0]), np.array([0.9, 0.9]))
    readings = [read(conversation(("03 10:00", "client", "Дорого"), ("03 10:01", "manager", "Понимаю"), id=i))
                for i in ("a", "b")]
    encoded = Encoded(np.array([[4.0, 0.0], [-4.0, 0.0]]), [np.zeros((1, 2)), np.zeros((1, 2))])
    refusal, not_target = judge(model, readings, encoded)
    assert refusal.labels.target and not not_target.labels.target
    assert (refusal.confidence, not_target.confidence) == (0.2, 0.9)


def test_without_a_non_target_calibrator_the_shared_one_serves_both():
    model = _model()
    model.calibrator = Isotonic(np.array([0.0, 1.0]), np.array([0.4, 0.4]))
    readings = [read(conversation(("03 10:00", "client", "Дорого"), ("03 10:01", "manager", "Понимаю")))]
    encoded = Encoded(np.array([[-4.0, 0.0]]), [np.zeros((1, 2))])
    (verdict,) = judge(model, readings, encoded)
    assert not verdict.labels.target and verdict.confidence == 0.4

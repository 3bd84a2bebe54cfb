"""The trained embedded model reused from disk: same verdicts as a freshly trained one, and
a changed bank or tuning is a new key (trained again, never an old model for new data)."""

from __future__ import annotations

import numpy as np
import pytest

from leakwatch.classifier import model_cache
from leakwatch.classifier.calibration import Isotonic
from leakwatch.classifier.embedding_model import HEAD_CLASSES, EmbeddingModel, Tuning
from leakwatch.classifier.linear_model import SoftmaxRegression


def _model(seed: int) -> EmbeddingModel:
    rng = np.random.default_rng(seed)
    heads = {}
    for head, classes in HEAD_CLASSES.items():
        x = rng.normal(size=(40, 6))
        labels = [classes[i % len(classes)] for i in range(40)]
        heads[head] = SoftmaxRegression(classes, steps=50).fit(x, labels)
    model = EmbeddingModel(heads, rng.normal(size=(3, 6)), {"hot": 6, "target": 5})
    model.calibrator = Isotonic(np.array([0.2, 0.5, 0.9]), np.array([0.3, 0.6, 0.95]))
    model.non_target_calibrator = Isotonic(np.array([0.6, 0.9]), np.array([0.8, 0.97]))
    return model


def test_a_saved_model_loads_with_the_same_probabilities_and_calibration(tmp_path):
    model, path = _model(1), tmp_path / "m.npz"
    model_cache.save(model, path)
    loaded = model_cache.load(path, Tuning())
    assert loaded is not None
    x = np.random.default_rng(2).normal(size=(5, 6))
    for head in HEAD_CLASSES:
        np.testing.assert_array_equal(loaded.heads[head].predict_proba(x), model.heads[head].predict_proba(x))
    np.testing.assert_array_equal(loaded.reason_directions, model.reason_directions)
    assert loaded.columns == model.columns
    assert [loaded.calibrator(s) for s in (0.1, 0.4, 0.7, 1.0)] == [model.calibrator(s) for s in (0.1, 0.4, 0.7, 1.0)]
    assert [loaded.non_target_calibrator(s) for s in (0.5, 0.8, 1.0)] == [model.non_target_calibrator(s) for s in (0.5, 0.8, 1.0)]


def test_a_missing_or_broken_file_is_no_model(tmp_path):
    assert model_cache.load(tmp_path / "absent.npz", Tuning()) is None
    (tmp_path / "broken.npz").write_bytes(b"not a zip")
    assert model_cache.load(tmp_path / "broken.npz", Tuning()) is None


def test_the_key_changes_with_the_bank_the_tuning_and_the_version():
    key = model_cache.model_key(b'{"id": "bank-1"}\n', Tuning(), "2.0")
    assert key == model_cache.model_key(b'{"id": "bank-1"}\n', Tuning(), "2.0")
    assert key != model_cache.model_key(b'{"id": "bank-2"}\n', Tuning(), "2.0")
    assert key != model_cache.model_key(b'{"id": "bank-1"}\n', Tuning(l2=10.0), "2.0")
    assert key != model_cache.model_key(b'{"id": "bank-1"}\n', Tuning(), "2.1")


def test_a_second_engine_reuses_the_first_one_s_model_and_judges_the_same(tmp_path, monkeypatch):
    import asyncio

    from leakwatch.classifier import embedded as embedded_module
    from leakwatch.classifier.labelled import BANK_PATH, load_labelled

    monkeypatch.setattr(embedded_module, "CACHE_DIR", tmp_path / "cache")
    bank = tmp_path / "bank.jsonl"
    lines = BANK_PATH.read_text(encoding="utf-8").splitlines()
    bank.write_text("\n".join(lines[:60]) + "\n", encoding="utf-8")
    items = [x.item for x in load_labelled(BANK_PATH)[60:70]]

    first = embedded_module.EmbeddedClassifier(bank_path=bank)
    trained = asyncio.run(first.classify(items))
    saved = list((tmp_path / "cache").glob("model-*.npz"))
    assert len(saved) == 1

    class Trained(Exception):
        pass

    def no_training(self, digest):
        raise Trained

    monkeypatch.setattr(embedded_module.EmbeddedClassifier, "_train", no_training)
    second = embedded_module.EmbeddedClassifier(bank_path=bank)
    assert asyncio.run(second.classify(items)) == trained  # no training: it would raise
    assert second.version == first.version
    _assert_same_model(second._model, first._model)

    bank.write_text("\n".join(lines[:59]) + "\n", encoding="utf-8")  # another bank: trained again
    with pytest.raises(Trained):
        embedded_module.EmbeddedClassifier(bank_path=bank).warm_up()


def _assert_same_model(loaded, trained) -> None:
    """Every attribute a trained model holds comes back: a field added to the model (or to a
    head) that the cache does not save fails here, not in production with wrong columns."""
    assert set(vars(loaded)) == set(vars(trained))
    for name, value in vars(trained).items():
        if name == "heads":
            for head, regression in value.items():
                for field in ("weights", "bias", "mean", "scale", "classes"):
                    np.testing.assert_array_equal(getattr(loaded.heads[head], field), getattr(regression, field))
        elif name in ("calibrator", "non_target_calibrator"):
            assert (getattr(loaded, name) is None) == (value is None), name
            if value is not None:
                np.testing.assert_array_equal(getattr(loaded, name).x, value.x)
                np.testing.assert_array_equal(getattr(loaded, name).y, value.y)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(loaded, name), value)
        else:
            assert getattr(loaded, name) == value, name

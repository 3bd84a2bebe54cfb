import numpy as np
import pytest

from leakwatch.classifier import encoder


def test_bank_vectors_are_read_back_instead_of_encoded_again(tmp_path, monkeypatch):
    texts = ["дорого для нас", "пришлите КП", ""]
    calls = []
    monkeypatch.setattr(encoder, "_known", {})
    monkeypatch.setattr(encoder, "_load", lambda: calls.append(1) or _FakeUSE())
    first = encoder.encode_cached(texts, tmp_path / "bank.npz")
    assert calls == [1]

    monkeypatch.setattr(encoder, "_known", {})
    monkeypatch.setattr(encoder, "_load", lambda: pytest.fail("the cached vectors should be used"))
    again = encoder.encode_cached(texts, tmp_path / "bank.npz")
    assert np.array_equal(first, again)
    assert np.array_equal(encoder.encode(["пришлите КП"])[0], first[1])  # known from now on


def test_other_texts_are_encoded_afresh(tmp_path, monkeypatch):
    monkeypatch.setattr(encoder, "_known", {})
    monkeypatch.setattr(encoder, "_load", lambda: _FakeUSE())
    encoder.encode_cached(["один"], tmp_path / "bank.npz")
    calls = []
    monkeypatch.setattr(encoder, "_load", lambda: calls.append(1) or _FakeUSE())
    encoder.encode_cached(["два"], tmp_path / "bank.npz")
    assert calls == [1]


class _FakeUSE:
    def encode(self, texts):
        return np.stack([np.full(encoder.DIM, len(t), dtype=np.float32) for t in texts])

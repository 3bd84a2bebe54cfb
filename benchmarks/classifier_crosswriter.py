"""Cross-writer evaluation of the embedded engine: what predicts the field is the score on
conversations by writers the engine never learned from, not on its own writer's style.

    python benchmarks/classifier_crosswriter.py tests/data/writers/*.jsonl [--with-bank]

Each file is one writer. For every writer W the label heads are trained on all OTHER files
(plus the shipped bank with --with-bank) and judge W's conversations exactly as the engine
does; the table has one row per held-out writer and a pooled row. `--bank-only` instead
trains on the shipped bank alone and judges every file (the engine as it ships).
Embeddings are computed once per conversation.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import numpy as np

from leakwatch.classifier import encoder

from leakwatch.classifier.embedded import judge
from leakwatch.classifier.embedding_model import EmbeddingModel, Tuning, encode_readings
from leakwatch.classifier.evaluation import Report, evaluate
from leakwatch.classifier.features import read
from leakwatch.classifier.labelled import BANK_PATH, load_labelled

COLUMNS = ("target", "reason", "kind", "leak_salvageable", "hot")


def _row(name: str, report: Report) -> str:
    cells = [f"{report.accuracy[c].value:.2f}" for c in COLUMNS]
    return f"| {name} | {report.items} | " + " | ".join(cells) + f" | {report.kind_macro_f1:.2f} |"


def _cache_embeddings(path: Path) -> None:
    """Embeddings depend on the text alone: reuse them across runs while the rules change."""
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as data:
            cached = {k: data[k] for k in data.files}
    plain = encoder.encode

    def encode(texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).hexdigest() for t in texts]
        missing = sorted({(k, t) for k, t in zip(keys, texts) if k not in cached})
        if missing:
            for (k, _), v in zip(missing, plain([t for _, t in missing])):
                cached[k] = v
            np.savez(path, **cached)
        out = np.zeros((len(texts), encoder.DIM), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = cached[k]
        return out

    encoder.encode = encode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--with-bank", action="store_true", help="also train every fold on the shipped bank")
    parser.add_argument("--bank-only", action="store_true", help="train on the shipped bank only (the engine as shipped)")
    parser.add_argument("--cache", type=Path, help="keep sentence embeddings in this .npz between runs")
    args = parser.parse_args()
    if args.cache:
        _cache_embeddings(args.cache)
    started = time.perf_counter()
    sets = {path.stem: load_labelled(path) for path in args.files}
    bank = load_labelled(BANK_PATH) if (args.with_bank or args.bank_only) else []
    everything = [x for xs in sets.values() for x in xs] + bank
    readings = [read(x.item) for x in everything]
    encoded = encode_readings(readings)
    owner = [name for name, xs in sets.items() for _ in xs] + ["bank"] * len(bank)
    tuning = Tuning()
    print("| held-out writer | n | target | reason | kind | leak (salv.) | hot | kind macro-F1 |")
    print("|---|---|---|---|---|---|---|---|")
    gold_all, predicted_all = [], []
    for name in sets:
        test = [i for i, o in enumerate(owner) if o == name]
        train = [i for i, o in enumerate(owner) if (o == "bank" if args.bank_only else o != name)]
        model = EmbeddingModel.train([everything[i] for i in train], [readings[i] for i in train],
                                     encoded.take(train), tuning)
        verdicts = judge(model, [readings[i] for i in test], encoded.take(test))
        gold = [everything[i].gold for i in test]
        predicted = [v.labels for v in verdicts]
        gold_all += gold
        predicted_all += predicted
        print(_row(name, evaluate(gold, predicted)))
    print(_row("**pooled**", evaluate(gold_all, predicted_all)))
    print(f"\n{len(everything)} conversations, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

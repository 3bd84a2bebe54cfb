"""Cross-writer evaluation of the embedded engine: what predicts the field is the score on
conversations by writers the engine never learned from, not on its own writer's style.

    python benchmarks/classifier_crosswriter.py tests/data/writers/*.jsonl [--with-bank]

Each file is one writer. For every writer W the label heads are trained on all OTHER files
(plus the shipped bank with --with-bank) and judge W's conversations exactly as the engine
does; the table has one row per held-out writer and a pooled row. `--bank-only` instead
trains on the shipped bank alone and judges every file (the engine as it ships). The bank
holds some writers' deals (ids «wa-…»): those are left out of any fold that judges that
writer, so every row is on a writer the heads never saw.
Embeddings are computed once per conversation.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from leakwatch.classifier import encoder

from leakwatch.classifier.calibration import reliability, verdict_correct
from leakwatch.classifier.embedded import judge, train_calibrated
from leakwatch.classifier.embedding_model import EmbeddingModel, Tuning, encode_readings
from leakwatch.classifier.evaluation import NONE, Report, evaluate, review_split
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


def _confusion(title: str, counts, labels: list[str]) -> None:
    print(f"\n{title} (gold rows × predicted columns)\n")
    print("| gold \\ predicted | " + " | ".join(labels) + " |")
    print("|---" * (len(labels) + 1) + "|")
    for g in labels:
        print(f"| {g} | " + " | ".join(str(counts.get((g, p), 0) or "·") for p in labels) + " |")


def _details(pooled: Report, gold, predicted, confidence) -> None:
    from schemas.labels import Kind, Leak, Reason

    _confusion("reason", pooled.reason_confusion, [str(r) for r in Reason] + [NONE])
    _confusion("kind", pooled.kind_confusion, [str(k) for k in Kind] + [NONE])
    _confusion("leak (gold-target items; — = none)", pooled.leak_confusion, [str(x) for x in Leak] + [NONE])
    hot = {(str(g), str(p)): n for (g, p), n in pooled.hot_confusion.items()}
    _confusion("hot", hot, ["True", "False"])
    print("\n| review below | sent to review | target | reason | kind | leak (salv.) | hot | kind macro-F1 |")
    print("|---|---|---|---|---|---|---|---|")
    for threshold in (0.0, 0.6, 0.7, 0.75, 0.8, 0.85):
        split = review_split(gold, predicted, confidence, threshold)
        cells = " | ".join(f"{split.confident.accuracy[c].value:.2f}" for c in COLUMNS)
        print(f"| {threshold:.2f} | {split.share_flagged:.0%} | {cells} | {split.confident.kind_macro_f1:.2f} |")


def print_reliability(title: str, confidence, correct) -> None:
    """Predicted vs observed accuracy of the refusal verdict (target, reason, kind, leak)."""
    rows, ece = reliability(confidence, correct)
    print(f"\nreliability, {title}: ECE {ece:.3f}\n")
    print("| confidence | n | mean predicted | observed correct |")
    print("|---|---|---|---|")
    for r in rows:
        cells = f"{r.predicted:.2f} | {r.observed:.2f}" if r.items else "· | ·"
        print(f"| {r.low:.1f}–{r.high:.1f} | {r.items} | {cells} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--with-bank", action="store_true", help="also train every fold on the shipped bank")
    parser.add_argument("--bank-only", action="store_true", help="train on the shipped bank only (the engine as shipped)")
    parser.add_argument("--details", action="store_true",
                        help="pooled confusion tables and the review split by confidence")
    parser.add_argument("--errors", type=Path, help="write every held-out item's gold and predicted labels here")
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
    # The bank ships some writers' deals too («wa-001»): a held-out writer's never trains.
    bank_writer = [""] * (len(everything) - len(bank)) + [x.item.id.split("-")[0] for x in bank]
    tuning = Tuning()
    print("| held-out writer | n | target | reason | kind | leak (salv.) | hot | kind macro-F1 |")
    print("|---|---|---|---|---|---|---|---|")
    gold_all, predicted_all, confidence_all, ids_all, raw_all = [], [], [], [], []
    for name in sets:
        test = [i for i, o in enumerate(owner) if o == name]
        train = [i for i, o in enumerate(owner)
                 if (o == "bank" if args.bank_only else o != name) and bank_writer[i] != name]
        # As the engine trains at start: the heads plus the out-of-fold confidence calibrator.
        model = train_calibrated([everything[i] for i in train], [readings[i] for i in train],
                                 encoded.take(train), tuning)
        verdicts = judge(model, [readings[i] for i in test], encoded.take(test))
        gold = [everything[i].gold for i in test]
        predicted = [v.labels for v in verdicts]
        gold_all += gold
        predicted_all += predicted
        confidence_all += [v.confidence for v in verdicts]
        raw_all += [v.raw_confidence for v in verdicts]
        ids_all += [everything[i].item.id for i in test]
        print(_row(name, evaluate(gold, predicted)))
    pooled = evaluate(gold_all, predicted_all)
    print(_row("**pooled**", pooled))
    if args.errors:
        with open(args.errors, "w", encoding="utf-8") as f:
            for i, g, p, c, raw in zip(ids_all, gold_all, predicted_all, confidence_all, raw_all):
                f.write(json.dumps({"id": i, "gold": g.model_dump(mode="json"), "predicted": p.model_dump(mode="json"),
                                    "confidence": c, "raw_confidence": raw}, ensure_ascii=False) + "\n")
    if args.details:
        _details(pooled, gold_all, predicted_all, confidence_all)
        correct = [verdict_correct(g, p) for g, p in zip(gold_all, predicted_all)]
        print_reliability("raw confidence (heads' geometric mean)", raw_all, correct)
        print_reliability("calibrated confidence (shipped)", confidence_all, correct)
    print(f"\n{len(everything)} conversations, {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

"""k-fold cross-validation of the embedded engine on its example bank (tuning without
touching the dev set).

    python benchmarks/classifier_crossval.py [--folds 10] [--l2 30] [--fact-weight 3]

Embeddings are computed once; each fold retrains the label heads on the other folds and
judges the held-out conversations exactly as the engine does.
"""

from __future__ import annotations

import argparse

from leakwatch.classifier.embedded import judge
from leakwatch.classifier.embedding_model import EmbeddingModel, Tuning, encode_readings
from leakwatch.classifier.eval_report import print_report
from leakwatch.classifier.evaluation import Report, evaluate
from schemas.conversation import EngineInfo
from leakwatch.classifier.features import read
from leakwatch.classifier.labelled import BANK_PATH, load_labelled


def cross_validate(path, folds: int, tuning: Tuning) -> Report:
    bank = load_labelled(path)
    readings = [read(x.item) for x in bank]
    encoded = encode_readings(readings)
    predicted = [None] * len(bank)
    for fold in range(folds):
        held = [i for i in range(len(bank)) if i % folds == fold]
        train = [i for i in range(len(bank)) if i % folds != fold]
        model = EmbeddingModel.train([bank[i] for i in train], [readings[i] for i in train],
                                     encoded.take(train), tuning)
        for i, verdict in zip(held, judge(model, [readings[i] for i in held], encoded.take(held))):
            predicted[i] = verdict.labels
    return evaluate([x.gold for x in bank], predicted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bank", default=BANK_PATH)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--l2", type=float, default=Tuning.l2)
    parser.add_argument("--fact-weight", type=float, default=Tuning.fact_weight)
    args = parser.parse_args()
    tuning = Tuning(l2=args.l2, fact_weight=args.fact_weight)
    report = cross_validate(args.bank, args.folds, tuning)
    print_report(report, EngineInfo(name="embedded (cross-validated)", version=str(tuning)))


if __name__ == "__main__":
    main()

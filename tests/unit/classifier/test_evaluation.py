import math

import pytest

from schemas.conversation import Labels
from leakwatch.classifier.evaluation import NONE, confusion_rows, evaluate, f1_per_class
from schemas.labels import Kind, Leak, Reason

NON_TARGET = Labels(target=False)
REAL_EXPENSIVE = Labels(target=True, reason=Reason.EXPENSIVE, kind=Kind.REAL)
OBJECTION = Labels(target=True, reason=Reason.EXPENSIVE, kind=Kind.SALVAGEABLE, leak=Leak.OBJECTION, hot=True)
LATE = Labels(target=True, reason=Reason.LATE_CONTACT, kind=Kind.SALVAGEABLE, leak=Leak.LATE_CALLBACK)


def test_accuracies_are_over_the_right_items():
    gold = [NON_TARGET, REAL_EXPENSIVE, OBJECTION, LATE]
    pred = [NON_TARGET, OBJECTION, OBJECTION, NON_TARGET]
    report = evaluate(gold, pred)
    acc = {k: (m.correct, m.total) for k, m in report.accuracy.items()}
    assert acc["target"] == (3, 4)
    assert acc["reason"] == (2, 3)  # target items only; «not target» for LATE is wrong
    assert acc["kind"] == (1, 3)
    assert acc["leak"] == (1, 3)
    assert acc["leak_salvageable"] == (1, 2)
    assert acc["hot"] == (3, 4)


def test_kind_macro_f1():
    gold = [REAL_EXPENSIVE, REAL_EXPENSIVE, OBJECTION, LATE]
    pred = [REAL_EXPENSIVE, OBJECTION, OBJECTION, LATE]
    report = evaluate(gold, pred)
    # real: tp1 fn1 -> 2/3; salvageable: tp2 fp1 -> 4/5
    assert report.kind_f1 == pytest.approx({"salvageable": 0.8, "real": 2 / 3})
    assert report.kind_macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)


def test_f1_of_an_absent_class_is_zero():
    assert f1_per_class([("a", "a")], ["a", "b"]) == {"a": 1.0, "b": 0.0}


def test_confusion_table_counts_gold_rows_and_predicted_columns():
    report = evaluate([LATE, LATE, REAL_EXPENSIVE], [LATE, NON_TARGET, OBJECTION])
    columns, rows = confusion_rows(report)
    assert columns[-1] == NONE and len(rows) == len(Reason)
    late_row = rows[list(Reason).index(Reason.LATE_CONTACT)]
    assert late_row[columns.index(Reason.LATE_CONTACT.value)] == 1 and late_row[-1] == 1
    assert sum(map(sum, rows)) == 3


def test_mismatched_lengths_and_empty_input():
    with pytest.raises(ValueError):
        evaluate([LATE], [])
    assert math.isnan(evaluate([], []).accuracy["reason"].value)

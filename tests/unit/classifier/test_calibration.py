import math

import pytest

from leakwatch.classifier.calibration import CEILING, FLOOR, Isotonic, reliability, verdict_correct
from schemas.conversation import Labels
from schemas.labels import Kind, Leak, Reason


def test_isotonic_maps_scores_to_observed_accuracy():
    # 20 verdicts at 0.9 of which 10 right, 20 at 0.5 of which 16 right: the raw score
    # ranks the wrong way round, so the map pools them into one block at 26/40.
    scores = [0.9] * 20 + [0.5] * 20
    outcomes = [True] * 10 + [False] * 10 + [True] * 16 + [False] * 4
    iso = Isotonic.fit(scores, outcomes)
    assert iso(0.9) == pytest.approx(26 / 40)
    assert iso(0.5) == pytest.approx(26 / 40)


def test_isotonic_is_monotone_and_bounded():
    scores = [i / 100 for i in range(100)]
    outcomes = [i >= 50 for i in range(100)]  # all wrong below 0.5, all right above
    iso = Isotonic.fit(scores, outcomes)
    values = [iso(s / 100) for s in range(101)]
    assert values == sorted(values)
    assert values[0] == FLOOR and values[-1] == CEILING  # never certain from a few verdicts
    assert iso(0.2) < 0.1 and iso(0.8) > 0.9


def test_isotonic_needs_data():
    with pytest.raises(ValueError):
        Isotonic.fit([], [])


def test_reliability_bins_and_ece():
    confidence = [0.55, 0.55, 0.95, 0.95]
    correct = [True, False, True, True]
    rows, ece = reliability(confidence, correct, edges=(0.0, 0.5, 0.9, 1.0))
    assert [r.items for r in rows] == [0, 2, 2]
    assert math.isnan(rows[0].observed)
    assert rows[1].observed == 0.5 and rows[2].observed == 1.0
    assert ece == pytest.approx((2 * 0.05 + 2 * 0.05) / 4)


def test_a_verdict_is_correct_only_when_every_refusal_label_is():
    gold = Labels(target=True, reason=Reason.EXPENSIVE, kind=Kind.SALVAGEABLE, leak=Leak.LATE_CALLBACK, hot=True)
    assert verdict_correct(gold, gold.model_copy(update={"hot": False}))  # hot is its own flag
    assert not verdict_correct(gold, gold.model_copy(update={"leak": Leak.NO_MATERIALS}))
    assert not verdict_correct(gold, Labels(target=False))
    assert verdict_correct(Labels(target=False), Labels(target=False))

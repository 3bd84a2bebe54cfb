import pytest

from leakwatch.classifier.llm_answer import InvalidAnswer, first_json_object, parse_json, validate

GOOD = '{"target": true, "reason": "Дорого", "kind": "real", "leak": null, "hot": false, "confidence": 0.7, "evidence": "дорого"}'


def test_strict_json_and_fenced_json():
    assert parse_json(GOOD, lenient=False)["reason"] == "Дорого"
    assert parse_json("```json\n" + GOOD + "\n```", lenient=False)["kind"] == "real"


def test_prose_needs_lenient_mode():
    text = "Sure! Here it is: " + GOOD + " Anything else? {not json}"
    assert parse_json(text, lenient=False) is None
    assert parse_json(text, lenient=True)["confidence"] == 0.7
    assert first_json_object("no braces here") is None
    assert first_json_object("{broken {\"a\": 1}") == {"a": 1}


@pytest.mark.parametrize(
    "data",
    [
        {"target": True, "reason": "Очень дорого", "kind": "real", "hot": False, "confidence": 0.5},
        {"target": True, "reason": "Дорого", "kind": "salvageable", "leak": None, "hot": False, "confidence": 0.5},
        {"target": False, "reason": "Дорого", "hot": False, "confidence": 0.5},
        {"target": True, "reason": "Дорого", "kind": "real", "hot": False, "confidence": 7},
        {"reason": "Дорого"},
    ],
)
def test_invalid_answers_are_failures(data):
    with pytest.raises(InvalidAnswer):
        validate(data)


def test_blank_labels_are_null_and_long_evidence_is_cut():
    answer = validate({"target": False, "reason": "", "kind": "null", "leak": None, "hot": False,
                       "confidence": 0.9, "evidence": "x" * 500})
    assert answer.reason is None and answer.kind is None
    assert len(answer.evidence) <= 200

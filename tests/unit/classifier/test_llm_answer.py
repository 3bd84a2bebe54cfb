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


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"target": False, "hot": True, "confidence": 0.5}, "not hot"),
        ({"target": False, "reason": "Дорого", "hot": False, "confidence": 0.5}, "no reason, kind or leak"),
        ({"target": True, "reason": "Дорого", "kind": "real", "leak": "Не отработали возражение", "hot": False,
          "confidence": 0.5}, "real refusal has no leak"),
        ({"target": True, "reason": "Дорого", "kind": "salvageable", "hot": False, "confidence": 0.5},
         "needs a leak"),
        ({"target": True, "reason": "дорого", "kind": "real", "hot": False, "confidence": 0.5}, "reason"),
        ({"target": True, "reason": "Дорого", "kind": "Real", "hot": False, "confidence": 0.5}, "kind"),
    ],
)
def test_cross_field_rules_and_exact_enums_name_the_problem(data, problem):
    with pytest.raises(InvalidAnswer, match=problem):
        validate(data)


def test_problems_do_not_echo_the_answer_values():
    with pytest.raises(InvalidAnswer) as err:
        validate({"target": True, "reason": "паспорт 4500 123456", "kind": "real", "hot": False, "confidence": 0.5})
    assert "4500" not in str(err.value)


def test_reasoning_is_kept_short_and_is_not_a_label():
    answer = validate({"reasoning": "r" * 5000, "target": True, "reason": "Дорого", "kind": "real", "leak": None,
                       "hot": False, "confidence": 0.6, "evidence": "дорого"})
    assert 0 < len(answer.reasoning) <= 600
    assert "reasoning" not in answer.model_dump(exclude={"reasoning"})

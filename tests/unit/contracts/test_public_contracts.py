"""The public topics' contract: the JSON Schemas published under a version (frozen copies in
published/) and what the models generate today must stay compatible, or the version must
change; a consumer written against v1 keeps reading after an additive change."""

import copy
import importlib.util
import json
import sys
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from leakwatch.domain.reactivation import reactivation_entry
from schemas.compatibility import breaking_changes
from schemas.generate import schema_document
from schemas.topics import ALL, CLASSIFIED, INPUTS
from tests.support.refusal_records import refusal
from tests.unit.domain.test_reactivation import MSK

PUBLISHED = Path(__file__).parent / "published"
PUBLIC = [spec for spec in ALL if spec.public]


def load_example():
    path = Path(__file__).resolve().parents[3] / "examples" / "refusals_consumer.py"
    spec = importlib.util.spec_from_file_location("refusals_consumer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def version_of(spec) -> int:
    return spec.model.model_fields["schema_version"].default


def published(spec) -> dict:
    return json.loads((PUBLISHED / f"{spec.name}.v{version_of(spec)}.json").read_text(encoding="utf-8"))


def audience(spec) -> str:
    return "writers" if spec in INPUTS else "readers"


@pytest.mark.parametrize("spec", PUBLIC, ids=lambda s: s.name)
def test_every_public_version_is_published(spec):
    assert (PUBLISHED / f"{spec.name}.v{version_of(spec)}.json").exists(), (
        f"{spec.name} v{version_of(spec)} has no frozen copy: a new version is published by copying "
        f"schemas/json/{spec.name}.v{version_of(spec)}.json into {PUBLISHED}")


@pytest.mark.parametrize("spec", PUBLIC, ids=lambda s: s.name)
def test_public_schemas_stay_compatible_within_their_version(spec):
    problems = breaking_changes(published(spec), schema_document(spec), audience=audience(spec))
    assert not problems, (f"{spec.name} v{version_of(spec)}: {problems}; a breaking change needs a new "
                          "schema_version (and its own frozen copy)")


def refusal_record():
    record = refusal("31926520", datetime(2026, 11, 18, 12, tzinfo=MSK), reason="Дорого", amount=120000)
    return record.model_copy(update={"evidence": "Бюджет будет через полгода", "version": 3})


def test_a_v1_consumer_keeps_reading_after_an_additive_change():
    example = load_example()
    check = example.validator("refusals.classified", PUBLISHED)
    raw = json.loads(refusal_record().model_dump_json())
    # v1.1: a producer adds fields, nested and top-level; the v1 reader ignores them.
    newer = {**raw, "deal_url": "https://crm.example/leads/31926520", "engine": {**raw["engine"], "build": "abc"}}
    additive = copy.deepcopy(schema_document(CLASSIFIED))
    additive["properties"]["deal_url"] = {"type": "string"}
    assert breaking_changes(published(CLASSIFIED), additive, audience="readers") == []
    record = example.parse(check, json.dumps(newer).encode())
    assert record["money_rub"] == 120000 and record["reason"] == "Дорого"

    entry = json.loads(reactivation_entry(refusal_record(), MSK).model_dump_json())
    entry_check = example.validator("refusals.reactivation", PUBLISHED)
    assert example.parse(entry_check, json.dumps({**entry, "priority": 1}).encode())["recontact_on"] == "2027-05-18"


@pytest.mark.parametrize("change, expected", [
    (lambda d: d["properties"].pop("money_rub"), "`money_rub` was removed"),
    (lambda d: d["properties"].__setitem__("version", {"type": "string"}), "`version` changed"),
    (lambda d: d["required"].remove("lost_at"), "`lost_at` is no longer always present"),
    (lambda d: d["$defs"]["Reason"]["enum"].append("Не вовремя"), "`reason` changed"),
    (lambda d: d.__setitem__("x-key", "manager"), "x-key changed"),
])
def test_a_breaking_change_fails_unless_the_version_changes(change, expected):
    broken = copy.deepcopy(schema_document(CLASSIFIED))
    change(broken)
    problems = breaking_changes(published(CLASSIFIED), broken, audience="readers")
    assert any(expected in p for p in problems), problems
    # ...and a v1 consumer would indeed fail on a record of the broken shape.
    if "money_rub" in expected:
        example = load_example()
        raw = json.loads(refusal_record().model_dump_json())
        raw.pop("money_rub")
        with pytest.raises(jsonschema.ValidationError):
            example.parse(example.validator("refusals.classified", PUBLISHED), json.dumps(raw).encode())


def test_writers_of_an_input_topic_are_not_asked_for_more():
    from schemas.topics import REVIEWS

    stricter = copy.deepcopy(schema_document(REVIEWS))
    stricter["required"].append("comment")
    assert breaking_changes(published(REVIEWS), stricter, audience="writers") == ["field `comment` became required"]


def test_the_example_keeps_the_newest_version_and_applies_withdrawals():
    example = load_example()
    current = example.CurrentByDeal()
    listed = json.loads(reactivation_entry(refusal_record(), MSK).model_dump_json())
    assert current.apply(listed) and not current.apply(listed)  # the repeat changes nothing
    withdrawn = {**listed, "version": 4, "active": False, "recontact_on": None, "come_back": None, "date_basis": None}
    stale = {**listed, "version": 2}
    assert current.apply(withdrawn) and not current.apply(stale)
    assert current.records == {} and current.versions == {"31926520": 4}

from datetime import datetime, timezone

import pytest

from schemas.decoding import decode
from schemas.topics import DEALS
from services.ingest.amocrm import deal_events
from services.ingest.errors import MappingError
from services.ingest.forms import parse_form
from services.ingest.vendor_maps import load_maps
from tests.unit.services.vendor_payloads import amo_form, amo_lead

NOW = datetime(2025, 11, 18, 9, 0, tzinfo=timezone.utc)
MAPS = load_maps({"amocrm": {
    "pipelines": {"2116": "Основная"},
    "users": {"938348": "Анна Смирнова"},
    "statuses": {"10216994": "Переговоры"},
    "loss_reasons": {"7656397": "Дорого", "7656400": "spam"},
}})


def events(*sections):
    return deal_events(parse_form(amo_form(*sections)), MAPS, NOW)


def test_lost_deal_maps_to_a_canonical_lost_event():
    [e] = events(("status", [amo_lead(status_id="143", loss_reason_id="7656397")]))
    assert (e.type, e.deal_id, e.pipeline, e.manager, e.amount_rub) == ("lost", "amocrm:leakwatchdemo:31926520", "Основная", "Анна Смирнова", 45000)
    assert e.stage == "Закрыто и не реализовано" and e.lost_reason == "Дорого"
    assert e.ts == datetime(2025, 11, 18, 8, 0, tzinfo=timezone.utc)  # last_modified, unix seconds
    # What the stream will read back decodes as a valid crm.deals event with the deal id as key.
    assert decode(DEALS, e.model_dump_json(exclude_none=True).encode(), key=b"amocrm:leakwatchdemo:31926520") == e


def test_won_and_stage_moves():
    won, moved = events(("status", [amo_lead(status_id="142"), amo_lead(lead_id="31926521", status_id="10216994")]))
    assert (won.type, won.stage) == ("won", "Успешно реализовано")
    assert (moved.type, moved.stage, moved.deal_id) == ("stage_changed", "Переговоры", "amocrm:leakwatchdemo:31926521")


def test_unmapped_ids_stay_visible_with_a_vendor_prefix():
    [e] = events(("status", [amo_lead(status_id="555", pipeline_id="9999", responsible_user_id="42")]))
    assert (e.pipeline, e.manager, e.stage) == ("amocrm:9999", "amocrm-user:42", "amocrm:555")


def test_a_spam_loss_reason_marks_the_deal_not_target():
    [e] = events(("status", [amo_lead(loss_reason_id="7656400")]))
    assert e.type == "lost" and e.is_spam is True and e.lost_reason is None


def test_add_update_delete_in_one_post_creation_first():
    body = amo_form(("delete", [{"id": "31926522", "status_id": "143", "pipeline_id": "2116"}]),
                    ("update", [amo_lead(lead_id="31926523", status_id="143", price="50 000")]),
                    ("add", [amo_lead(lead_id="31926524", status_id="10216994", last_modified=None)]))
    created, updated, deleted = deal_events(parse_form(body), MAPS, NOW)
    assert (created.type, created.stage, created.ts) == ("created", "Переговоры",
                                                        datetime(2025, 11, 17, 8, 0, tzinfo=timezone.utc))
    # An update never carries the stage: leads[status] does, and order between them is not guaranteed.
    assert (updated.type, updated.stage, updated.amount_rub) == ("updated", None, 50000)
    assert (deleted.type, deleted.is_spam, deleted.ts) == ("updated", True, NOW)


def test_event_ids_are_stable_for_a_retried_webhook_and_differ_for_a_new_change():
    first = events(("status", [amo_lead()]))[0]
    again = events(("status", [amo_lead()]))[0]
    later = events(("status", [amo_lead(last_modified="1763456400")]))[0]
    assert first.event_id == again.event_id != later.event_id


def test_json_encoded_webhook_maps_the_same():
    payload = {"leads": {"status": [amo_lead()]}, "account": {"subdomain": "x"}}
    assert deal_events(payload, MAPS, NOW)[0].deal_id == "amocrm:x:31926520"


@pytest.mark.parametrize("body,reason", [
    (b"leads[sideways][0][id]=5&account[subdomain]=x", "no deal in the payload"),
    (b"leads[status][0][id]=5&leads[status][0][status_id]=143", "account\\[subdomain\\] is missing"),
    (amo_form(("status", [amo_lead(lead_id=None)])), "`id` is missing"),
    (amo_form(("status", [amo_lead(status_id=None)])), "`status_id` is missing"),
    (amo_form(("status", [amo_lead(price="сорок")])), "not a number"),
])
def test_unmappable_payloads_say_why(body, reason):
    with pytest.raises(MappingError, match=reason):
        deal_events(parse_form(body), MAPS, NOW)


def test_other_entities_are_ignored_and_a_reassignment_changes_the_manager():
    from services.ingest.calls import Ignored
    from tests.support.vendor_fixtures import form
    assert isinstance(deal_events(parse_form(form("amocrm/contacts_add.yaml")), MAPS, NOW), Ignored)
    [e] = deal_events(parse_form(form("amocrm/leads_responsible.yaml")), MAPS, NOW)
    assert (e.type, e.deal_id, e.manager, e.stage) == ("updated", "amocrm:leakwatchdemo:31926521", "amocrm-user:938349", None)


def test_the_fetched_loss_reason_name_maps_through_the_table():
    from services.ingest.amocrm import lost_lead_ids, with_loss_reasons
    from tests.support.vendor_fixtures import form
    payload = parse_form(form("amocrm/leads_status_lost.yaml"))
    assert lost_lead_ids(payload) == ["31926520"]
    [e] = deal_events(with_loss_reasons(payload, {"31926520": "Купили у конкурентов"}), MAPS, NOW)
    assert (e.type, e.lost_reason) == ("lost", "Выбрал конкурента")
    custom = load_maps({"amocrm": {"loss_reason_names": {"Взяли курс у других": "Выбрал конкурента"}}})
    [e] = deal_events(with_loss_reasons(payload, {"31926520": "ВЗЯЛИ КУРС У ДРУГИХ"}), custom, NOW)
    assert e.lost_reason == "Выбрал конкурента"
    [e] = deal_events(with_loss_reasons(payload, {"31926520": "Что-то своё"}), MAPS, NOW)
    assert e.lost_reason is None  # unknown names stay unstated, never guessed
    with pytest.raises(ValueError, match="loss_reason_names"):
        load_maps({"amocrm": {"loss_reason_names": {"Дорого": "Дешево"}}})


def test_the_review_stage_is_a_refusal_and_the_qa_leads_move_says_where_it_came_from():
    from leakwatch.domain.reviews import CrmReviewRules
    from services.ingest.amocrm import lost_lead_ids, with_loss_reasons
    maps = load_maps({"amocrm": {"statuses": {"61000": "Условный отказ", "10216994": "Переговоры"},
                                 "users": {"102525": "Мария (ОКК)"}}})
    rules = CrmReviewRules(review_stages=frozenset({"Условный отказ"}), closed_lost_stages=frozenset({"143"}))
    into_review = parse_form(amo_form(("status", [amo_lead(status_id="61000", old_status_id="10216994")])))
    assert lost_lead_ids(into_review, maps, rules) == ["31926520"]  # its loss reason is fetched
    assert lost_lead_ids(into_review) == []  # without the rules it is an ordinary stage
    [e] = deal_events(with_loss_reasons(into_review, {"31926520": "Высокая цена"}), maps, NOW, rules)
    assert (e.type, e.stage, e.stage_id, e.lost_reason) == ("lost", "Условный отказ", "61000", "Дорого")
    assert (e.from_stage, e.from_stage_id) == ("Переговоры", "10216994")
    closed = parse_form(amo_form(("status", [amo_lead(status_id="143", old_status_id="61000", last_modified="1763456400")])))
    [c] = deal_events(with_loss_reasons(closed, {"31926520": "Долго не связывались"}), maps, NOW, rules)
    assert (c.type, c.stage_id, c.from_stage, c.from_stage_id, c.changed_by, c.lost_reason) == \
        ("lost", "143", "Условный отказ", "61000", "Мария (ОКК)", "Поздно связались")
    [plain] = deal_events(into_review, maps, NOW)  # no review stages configured
    assert plain.type == "stage_changed"

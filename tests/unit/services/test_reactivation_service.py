"""ReactivationService.handle: what one refusal record publishes, given what is listed.
The producer and the CRM writer are stand-ins here; tests/integration runs the real ones."""

import threading

import orjson

from leakwatch.settings import Settings
from services.reactivation.consumer import Listed, ReactivationService
from services.reactivation.crm_tasks import TaskRejected
from tests.unit.domain.test_reactivation import lost


class Sent:
    def __init__(self):
        self.messages = []

    def send_raw(self, topic, key, value):
        self.messages.append((topic, key, orjson.loads(value)))


class Writer:
    name = "amocrm"

    def __init__(self, fail: bool = False):
        self.created, self.fail = [], fail

    def create(self, entry):
        if self.fail:
            raise TaskRejected("HTTP 400 validation failed")
        self.created.append(entry.deal_id)
        return f"amocrm:{len(self.created)}"


def service(writer=None):
    sent = Sent()
    return ReactivationService(Settings(reactivation_crm_max_attempts=1), sent, writer, threading.Event()), sent


def raw(record) -> bytes:
    return record.model_dump_json().encode()


def test_listing_a_deal_creates_one_task_and_newer_versions_keep_it():
    writer = Writer()
    svc, sent = service(writer)
    listing: dict[str, Listed] = {}
    first = lost("Дорого", "через полгода").model_copy(update={"deal_id": "1001", "version": 3})
    svc.handle(raw(first), b"1001", 0, 1, listing)
    svc.handle(raw(first), b"1001", 0, 2, listing)  # a repeat: nothing
    svc.handle(raw(first.model_copy(update={"version": 5})), b"1001", 0, 3, listing)
    entries = [m for t, _, m in sent.messages if t == "refusals.reactivation"]
    assert [(e["version"], e["crm_task"]) for e in entries] == [(3, "amocrm:1"), (5, "amocrm:1")]
    assert writer.created == ["1001"] and listing["1001"] == Listed(5, True, "amocrm:1")


def test_a_withdrawn_deal_listed_again_gets_a_new_task():
    writer = Writer()
    svc, sent = service(writer)
    listing = {"1001": Listed(3, True, "amocrm:7")}
    record = lost("Дорого", "дорого").model_copy(update={"deal_id": "1001"})
    svc.handle(raw(record.model_copy(update={"version": 4, "active": False})), b"1001", 0, 1, listing)
    assert listing["1001"] == Listed(4, False, None)
    svc.handle(raw(record.model_copy(update={"version": 6})), b"1001", 0, 2, listing)
    assert writer.created == ["1001"] and listing["1001"] == Listed(6, True, "amocrm:1")


def test_unlisted_deals_that_do_not_qualify_publish_nothing():
    svc, sent = service()
    listing: dict[str, Listed] = {}
    competitor = lost("Выбрал конкурента", "у них дешевле").model_copy(update={"deal_id": "1002", "version": 2})
    assert svc.handle(raw(competitor), b"1002", 0, 1, listing) is None
    assert sent.messages == [] and listing == {}


def test_older_versions_are_ignored():
    svc, sent = service()
    listing = {"1001": Listed(5, True, None)}
    old = lost("Дорого", "дорого").model_copy(update={"deal_id": "1001", "version": 4})
    assert svc.handle(raw(old), b"1001", 0, 1, listing) is None and sent.messages == []


def test_malformed_records_and_refused_tasks_are_dead_letters():
    svc, sent = service(Writer(fail=True))
    listing: dict[str, Listed] = {}
    svc.handle(b'{"deal_id": "9"}', b"9", 1, 7, listing)
    record = lost("Клиент пропал").model_copy(update={"deal_id": "1003", "version": 2})
    entry = svc.handle(raw(record), b"1003", 1, 8, listing)
    assert entry.active and entry.crm_task is None  # listed all the same
    letters = [m for t, _, m in sent.messages if t == "deadletter"]
    assert [(d["topic"], d["offset"]) for d in letters] == [("refusals.classified", 7), ("refusals.reactivation", 8)]
    assert "HTTP 400" in letters[1]["error"] and "Клиент пропал" in letters[1]["payload"]

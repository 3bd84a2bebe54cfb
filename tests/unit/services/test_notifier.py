from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest

from schemas.alerts import LeakSpikeAlert
from services.notifier import grafana
from services.notifier.delivery import Dispatcher
from services.notifier.ledger import DeliveryLedger
from services.notifier.notification import from_alert
from services.notifier.targets import (PermanentFailure, SlackTarget, TelegramTarget, TemporaryFailure,
                                       WebhookTarget)
from services.notifier.texts import alert_text, leak_message_ru, period_ru

MSK = ZoneInfo("Europe/Moscow")
DAY = datetime(2025, 11, 18, tzinfo=MSK)


def alert(**kw) -> LeakSpikeAlert:
    base = dict(alert_id="leak:2025-11-18:all", kind="leak_above_baseline", period_start=DAY,
                period_end=DAY + timedelta(days=1), pipeline=None, value=1248700, baseline=761402,
                factor=1.64, message_ru=leak_message_ru(1248700, 761402), created_at=datetime.now(timezone.utc))
    return LeakSpikeAlert(**{**base, **kw})


def test_the_spec_example_message():
    assert leak_message_ru(1248700, 761402) == "Утечка дня ₽1 248 700 — на 64% выше среднего дня"


def test_alert_text_in_russian():
    text = alert_text(alert(pipeline="b2b"), MSK)
    assert text.splitlines() == ["🔴 Утечка выше нормы", "Утечка дня ₽1 248 700 — на 64% выше среднего дня",
                                 "Период: за 18.11.2025", "Воронка: b2b"]
    assert period_ru(DAY.replace(hour=10), DAY.replace(hour=11), MSK) == "18.11.2025 10:00–11:00"


def test_alert_contract_is_strict():
    with pytest.raises(ValueError):
        alert(kind="leak_below_baseline")
    with pytest.raises(ValueError):
        LeakSpikeAlert.model_validate({**alert().model_dump(), "extra": 1})


GRAFANA = {
    "receiver": "leakwatch", "status": "firing", "orgId": 1, "groupKey": "{}:{alertname=\"Утечка выше нормы\"}",
    "alerts": [{"status": "firing", "labels": {"alertname": "Утечка выше нормы", "pipeline": "b2b"},
                "annotations": {"summary": "Утечка дня ₽1 248 700 — на 64% выше среднего дня"},
                "startsAt": "2025-11-18T10:00:00+03:00", "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "c6eadffa33fcdf37", "values": {"B": 1248700}}],
}


def test_grafana_group_to_one_russian_notification():
    n = grafana.notification(GRAFANA, b"raw")
    assert n.text == "🔴 Grafana: сработало (1)\n• Утечка выше нормы [b2b]: Утечка дня ₽1 248 700 — на 64% выше среднего дня"
    assert n.key == grafana.notification(GRAFANA, b"again").key  # a repeat of the same state
    resolved = {**GRAFANA, "status": "resolved", "alerts": [{**GRAFANA["alerts"][0], "status": "resolved"}]}
    assert grafana.notification(resolved, b"").text.startswith("✅ Grafana: восстановлено")
    assert grafana.notification(resolved, b"").key != n.key
    with pytest.raises(ValueError, match="alerts"):
        grafana.notification({"status": "firing"}, b"")


class Flaky:
    def __init__(self, name, failures, final=None):
        self.name, self.failures, self.final, self.calls = name, list(failures), final, 0

    def post(self, n):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.final:
            raise self.final


@pytest.fixture
def ledger(tmp_path):
    led = DeliveryLedger(tmp_path / "delivered.sqlite")
    yield led
    led.close()


def dispatcher(targets, ledger, max_attempts=3):
    letters, sleeps = [], []
    d = Dispatcher(targets, lambda n, t, e: letters.append((n.key, t, e)), ledger, max_attempts=max_attempts,
                   backoff_s=1.0, sleep=sleeps.append)
    return d, letters, sleeps


def test_retries_with_backoff_then_posts(ledger):
    target = Flaky("webhook", [TemporaryFailure("HTTP 503"), TemporaryFailure("HTTP 429", retry_after_s=7)])
    d, letters, sleeps = dispatcher([target], ledger)
    assert d.deliver(from_alert(alert(), b"{}", MSK, origin="alerts.leak_spikes")) == {"webhook": "sent"}
    assert target.calls == 3 and sleeps == [1.0, 7.0] and letters == []


def test_gives_up_into_a_dead_letter_and_a_permanent_failure_is_not_retried(ledger):
    down = Flaky("webhook", [], final=TemporaryFailure("ConnectError"))
    refused = Flaky("slack", [], final=PermanentFailure("HTTP 404: no_service"))
    d, letters, sleeps = dispatcher([down, refused], ledger)
    n = from_alert(alert(), b"{}", MSK, origin="alerts.leak_spikes")
    assert d.deliver(n) == {"webhook": "dead_letter", "slack": "dead_letter"}
    assert (down.calls, refused.calls, sleeps) == (3, 1, [1.0, 2.0])
    assert letters == [(n.key, "webhook", "gave up after 3 attempts, last: ConnectError"),
                       (n.key, "slack", "permanent failure: HTTP 404: no_service")]


def test_the_same_alert_is_not_posted_twice_in_a_process(ledger):
    target = Flaky("telegram", [])
    d, _, _ = dispatcher([target], ledger)
    n = from_alert(alert(), b"{}", MSK, origin="alerts.leak_spikes")
    assert d.deliver(n) == {"telegram": "sent"}
    assert d.deliver(n) == {"telegram": "duplicate"} and target.calls == 1


def test_what_was_settled_survives_a_restart(tmp_path):
    posted, failing = Flaky("webhook", []), Flaky("slack", [], final=PermanentFailure("HTTP 404"))
    path = tmp_path / "delivered.sqlite"
    first = DeliveryLedger(path)
    d, letters, _ = dispatcher([posted, failing], first)
    n = from_alert(alert(), b"{}", MSK, origin="alerts.leak_spikes")
    assert d.deliver(n) == {"webhook": "sent", "slack": "dead_letter"}
    first.close()

    again = DeliveryLedger(path)  # a new process: nothing in memory
    restarted, more_letters, _ = dispatcher([posted, failing], again)
    assert restarted.deliver(n) == {"webhook": "duplicate", "slack": "duplicate"}
    assert (posted.calls, failing.calls, more_letters) == (1, 1, [])
    other = from_alert(alert(alert_id="leak:2025-11-19:all"), b"{}", MSK, origin="alerts.leak_spikes")
    assert restarted.deliver(other)["webhook"] == "sent" and posted.calls == 2
    again.close()


def test_a_failed_dead_letter_releases_the_alert_for_a_retry(ledger):
    target = Flaky("webhook", [], final=PermanentFailure("HTTP 400"))

    def broken_sink(*_):
        raise RuntimeError("kafka down")

    d = Dispatcher([target], broken_sink, ledger, max_attempts=1, backoff_s=0, sleep=lambda s: None)
    n = from_alert(alert(), b"{}", MSK, origin="alerts.leak_spikes")
    with pytest.raises(RuntimeError):
        d.deliver(n)
    with pytest.raises(RuntimeError):
        d.deliver(n)  # not remembered as settled: tried again
    assert target.calls == 2


def test_backoff_is_capped(ledger):
    d, _, _ = dispatcher([], ledger)
    assert [d.backoff(a, None) for a in (1, 2, 3, 6, 10)] == [1.0, 2.0, 4.0, 30.0, 30.0]


def client(handler) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_targets_post_what_each_service_expects_and_classify_failures():
    seen = []

    def ok(request):
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    n = from_alert(alert(), b"{}", MSK, origin="alerts.leak_spikes")
    WebhookTarget(client(ok), "https://hooks.example/leak").post(n)
    TelegramTarget(client(ok), "https://api.telegram.org/", "123:abc", "-100500").post(n)
    SlackTarget(client(ok), "https://hooks.slack.com/services/T/B/x").post(n)
    hook, tg, slack = seen
    assert hook.headers["Idempotency-Key"] == n.key and b'"alert_id"' in hook.content
    assert str(tg.url) == "https://api.telegram.org/bot123:abc/sendMessage"
    assert '"chat_id":"-100500"' in tg.content.decode() and "Утечка дня" in tg.content.decode()
    assert slack.content.decode().startswith('{"text":"🔴 Утечка выше нормы')

    with pytest.raises(TemporaryFailure) as temp:
        TelegramTarget(client(lambda r: httpx.Response(429, json={"ok": False, "parameters": {"retry_after": 5}})),
                       "https://api.telegram.org", "123:abc", "1").post(n)
    assert temp.value.retry_after_s == 5
    with pytest.raises(PermanentFailure):
        TelegramTarget(client(lambda r: httpx.Response(200, json={"ok": False, "description": "chat not found"})),
                       "https://api.telegram.org", "123:abc", "1").post(n)
    with pytest.raises(PermanentFailure) as perm:
        SlackTarget(client(lambda r: httpx.Response(404, text="no_service")), "https://hooks.slack.com/x").post(n)
    assert "hooks.slack.com" not in str(perm.value)

    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(TemporaryFailure, match="ConnectError"):
        WebhookTarget(client(refuse), "https://hooks.example/leak").post(n)

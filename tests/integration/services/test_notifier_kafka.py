"""`leakwatch notifier` as a process against the real broker: alerts produced to Kafka and
Grafana's webhook posted over HTTP reach a local server standing in for the webhook
receiver, Telegram and Slack; a failing target is retried, then dead-lettered; a notifier
killed mid-delivery posts nothing twice when it comes back."""

import os
import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from schemas.alerts import LeakSpikeAlert
from services.kafka_out import EventProducer
from services.notifier.consumer import LEAK_SPIKES
from services.notifier.texts import leak_message_ru
from tests.integration.services.local_http import Recorder, Service
from tests.integration.services.kafka_read import read_all
from tests.support.kafka_io import group_lag
from tests.support.servers import free_port

pytestmark = pytest.mark.kafka

TELEGRAM = "/tg/bot123:abc/sendMessage"
ROUTES = {"/hook": (200, {"received": True}), TELEGRAM: (200, {"ok": True, "result": {"message_id": 1}}),
          "/slack/T1/B1/x": (200, "ok"), "/fail": (503, {"error": "down"}), "/refuse": (404, "no_service")}


def alert(alert_id: str, **kw) -> LeakSpikeAlert:
    day = datetime(2025, 11, 18, tzinfo=timezone(timedelta(hours=3)))
    base = dict(alert_id=alert_id, kind="leak_above_baseline", period_start=day, period_end=day + timedelta(days=1),
                pipeline="b2b", value=1248700, baseline=761402, factor=1.64,
                message_ru=leak_message_ru(1248700, 761402), created_at=datetime.now(timezone.utc))
    return LeakSpikeAlert(**{**base, **kw})


@pytest.fixture
def recorder():
    with Recorder(ROUTES) as rec:
        yield rec


def notifier_env(kafka, recorder, tmp_path, *, webhook="/hook", slack="/slack/T1/B1/x") -> dict:
    run = uuid.uuid4().hex[:8]
    return {**os.environ,
           "LEAKWATCH_KAFKA_BOOTSTRAP": kafka.bootstrap,
           "LEAKWATCH_TOPIC_PREFIX": f"nt{run}.",
           "LEAKWATCH_APP_ID": f"notifier-{run}",
           "LEAKWATCH_TOPIC_PARTITIONS": "1",  # one partition: alerts are handled in the order produced
           "LEAKWATCH_BROKER_SESSION_TIMEOUT_S": "6",
           "LEAKWATCH_BROKER_HEARTBEAT_INTERVAL_S": "1",
           "LEAKWATCH_NOTIFIER_WEBHOOK_URL": recorder.url + webhook,
           "LEAKWATCH_NOTIFIER_TELEGRAM_API_URL": recorder.url + "/tg",
           "LEAKWATCH_NOTIFIER_TELEGRAM_BOT_TOKEN": "123:abc",
           "LEAKWATCH_NOTIFIER_TELEGRAM_CHAT_ID": "-100500",
           "LEAKWATCH_NOTIFIER_SLACK_WEBHOOK_URL": recorder.url + slack,
           "LEAKWATCH_NOTIFIER_GRAFANA_TOKEN": "grafana-secret",
           "LEAKWATCH_NOTIFIER_MAX_ATTEMPTS": "3",
           "LEAKWATCH_NOTIFIER_BACKOFF_S": "0.05",
           "LEAKWATCH_NOTIFIER_STATE_PATH": str(tmp_path / "notifier" / "delivered.sqlite")}


def notifier(kafka, recorder, tmp_path, **targets) -> Service:
    env = notifier_env(kafka, recorder, tmp_path, **targets)
    return Service("notifier", env, free_port(), tmp_path / "notifier.log").start()


def dead_letters(kafka, prefix: str, count: int, timeout_s: float = 30.0) -> dict[str, dict]:
    """By failing target; the last letter is written just after the last failed post."""
    deadline = time.monotonic() + timeout_s
    while True:
        letters = {v["error"].split(":")[0]: v for _, v in read_all(kafka.bootstrap, prefix + "deadletter")}
        if len(letters) >= count or time.monotonic() > deadline:
            return letters
        time.sleep(0.2)


def produce(kafka, service, *alerts, raw=()):
    producer = EventProducer(kafka.bootstrap, topic_prefix=service.env["LEAKWATCH_TOPIC_PREFIX"])
    for a in alerts:
        producer.send(LEAK_SPIKES, a)
    for key, value in raw:
        producer.send_raw(LEAK_SPIKES.name, key, value)
    producer.flush()


def test_alerts_and_grafana_reach_every_target_once(kafka, recorder, tmp_path):
    service = notifier(kafka, recorder, tmp_path)
    try:
        first = alert("leak:2025-11-18:b2b")
        # The same alert twice (at-least-once upstream), a malformed one, then a second alert.
        produce(kafka, service, first, first, raw=[(b"x", b'{"alert_id": "x"}')])
        produce(kafka, service, alert("leak:2025-11-19:b2b", pipeline=None))
        hooks = recorder.wait_for("/hook", 2)
        telegram = recorder.wait_for(TELEGRAM, 2)
        slack = recorder.wait_for("/slack/T1/B1/x", 2)

        assert [h.headers["Idempotency-Key"] for h in hooks] == ["leak:2025-11-18:b2b", "leak:2025-11-19:b2b"]
        assert hooks[0].json()["alert"]["value"] == 1248700
        message = telegram[0].json()
        assert message["chat_id"] == "-100500"
        assert message["text"].splitlines() == ["🔴 Утечка выше нормы", "Утечка дня ₽1 248 700 — на 64% выше среднего дня",
                                                "Период: за 18.11.2025", "Воронка: b2b"]
        assert slack[1].json()["text"].endswith("Воронка: все")

        [letter] = [v for _, v in read_all(kafka.bootstrap, service.env["LEAKWATCH_TOPIC_PREFIX"] + "deadletter")]
        assert letter["topic"] == "alerts.leak_spikes" and "kind" in letter["error"]

        grafana = {"receiver": "leakwatch", "status": "firing", "groupKey": "{}:{}",
                   "alerts": [{"status": "firing", "labels": {"alertname": "Утечка выше нормы"},
                               "annotations": {"summary": "Утечка дня ₽1 248 700 — на 64% выше среднего дня"},
                               "startsAt": "2025-11-18T10:00:00+03:00", "fingerprint": "c6eadffa33fcdf37"}]}
        assert httpx.post(f"{service.url}/grafana", json=grafana).status_code == 401
        headers = {"Authorization": "Bearer grafana-secret"}
        assert httpx.post(f"{service.url}/grafana", json=grafana, headers=headers).status_code == 202
        assert httpx.post(f"{service.url}/grafana", json=grafana, headers=headers).status_code == 202  # a repeat
        assert recorder.wait_for(TELEGRAM, 3)[2].json()["text"].startswith("🔴 Grafana: сработало (1)")
        assert recorder.wait_for("/hook", 3)[2].json()["grafana"]["alerts"][0]["fingerprint"] == "c6eadffa33fcdf37"
        time.sleep(1.0)
        assert (len(recorder.at("/hook")), len(recorder.at(TELEGRAM)), len(recorder.at("/slack/T1/B1/x"))) == (3, 3, 3)
    finally:
        assert service.stop() in (0, -15), service.tail()
    assert "123:abc" not in service.log_path.read_text()  # the bot token never reaches the log


def test_a_failing_target_is_retried_then_dead_lettered(kafka, recorder, tmp_path):
    service = notifier(kafka, recorder, tmp_path, webhook="/fail", slack="/refuse")
    prefix = service.env["LEAKWATCH_TOPIC_PREFIX"]
    try:
        produce(kafka, service, alert("burst:2025-11-18T10", kind="salvageable_burst", value=12, baseline=5,
                                      factor=2.4, message_ru="Спасаемых отказов за час: 12 — в 2,4 раза больше обычного"))
        assert recorder.wait_for(TELEGRAM, 1)[0].json()["text"].startswith("🟠 Всплеск спасаемых отказов")
        recorder.wait_for("/fail", 3)
        letters = dead_letters(kafka, prefix, count=2)
        assert sorted(letters) == ["notifier slack", "notifier webhook"]
        assert letters["notifier webhook"]["error"] == "notifier webhook: gave up after 3 attempts, last: HTTP 503"
        assert letters["notifier slack"]["error"].startswith("notifier slack: permanent failure: HTTP 404")
        for letter in letters.values():  # the alert itself is kept whole, with where it came from
            assert letter["key"] == "burst:2025-11-18T10" and (letter["partition"], letter["offset"]) == (0, 0)
            assert LeakSpikeAlert.model_validate_json(letter["payload"]).alert_id == "burst:2025-11-18T10"
        assert len(recorder.at("/fail")) == 3 and len(recorder.at("/refuse")) == 1  # 4xx: no retry
    finally:
        assert service.stop() in (0, -15), service.tail()
    # Settled (posted or dead-lettered) means committed: a restart would not post it again.
    assert group_lag(kafka.bootstrap, f"{service.env['LEAKWATCH_APP_ID']}-notifier", [prefix + LEAK_SPIKES.name]) == 0


SLOW_SLACK = "/slack/T1/B1/slow"


def test_restarted_mid_delivery_posts_no_alert_twice(kafka, tmp_path):
    """Killed (SIGKILL) while Slack holds the post: the webhook and Telegram already have the
    alert, the offset is not committed. The new process reads the alert again and posts it
    to Slack only; a second alert after the restart reaches everyone once."""
    with Recorder({**ROUTES, SLOW_SLACK: (200, "ok")}, held={SLOW_SLACK}) as recorder:
        env = notifier_env(kafka, recorder, tmp_path, slack=SLOW_SLACK)
        prefix, group = env["LEAKWATCH_TOPIC_PREFIX"], f"{env['LEAKWATCH_APP_ID']}-notifier"
        first = Service("notifier", env, free_port(), tmp_path / "notifier.log").start()
        try:
            produce(kafka, first, alert("leak:2025-11-20:b2b"))
            recorder.wait_for(SLOW_SLACK, 1)  # webhook and Telegram come first, then Slack hangs
            assert (len(recorder.at("/hook")), len(recorder.at(TELEGRAM))) == (1, 1)
            first.kill()
        finally:
            first.stop()
        assert group_lag(kafka.bootstrap, group, [prefix + LEAK_SPIKES.name]) == 1  # not committed
        recorder.release(SLOW_SLACK)  # Slack answers again; the killed post never got its answer

        second = Service("notifier", env, free_port(), tmp_path / "notifier.log").start()
        try:
            assert recorder.wait_for(SLOW_SLACK, 2)[1].json()["text"].startswith("🔴 Утечка выше нормы")
            produce(kafka, second, alert("leak:2025-11-21:b2b"))
            recorder.wait_for(SLOW_SLACK, 3)
            time.sleep(1.0)
            keys = [h.headers["Idempotency-Key"] for h in recorder.at("/hook")]
            assert keys == ["leak:2025-11-20:b2b", "leak:2025-11-21:b2b"]
            assert (len(recorder.at(TELEGRAM)), len(recorder.at(SLOW_SLACK))) == (2, 3)
        finally:
            assert second.stop() in (0, -15), second.tail()
        assert group_lag(kafka.bootstrap, group, [prefix + LEAK_SPIKES.name]) == 0

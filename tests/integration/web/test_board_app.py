"""The web board's app on the real ClickHouse engine (chdb) with the spec's two days and a few
provisional verdicts, its reviews produced to `refusals.reviewed` on the real broker."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from leakwatch.settings import Settings
from leakwatch.store.clickhouse import ClickHouseStore
from leakwatch.web.app import create_app
from schemas.conversation import EngineInfo
from schemas.topics import REVIEWS
from services.kafka_out import EventProducer
from services.simulator import spec_scenario as spec
from services.web.reviews_out import KafkaReviewPublisher
from streams.topology import ensure_topics
from tests.integration.services.kafka_read import read_all
from tests.support.refusal_records import refusal, spec_records

TOKEN = "t0ken"
DAY3 = datetime(2026, 11, 21, 10, 0, tzinfo=spec.TZ)


def provisional(deal_id: str, at: datetime, confidence: float, money: int, **kw):
    r = refusal(deal_id, at, amount=money, **kw)
    return r.model_copy(update={"status": "provisional", "source": "ai", "confidence": confidence,
                                "engine": EngineInfo(name="embedded", version="1"), "reviewer": None,
                                "evidence": "«подумаем до понедельника»"})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = ClickHouseStore.open(Settings(chdb_path=tmp_path_factory.mktemp("chdb")))
    s.insert_refusals(spec_records())
    s.insert_refusals([
        provisional("Q-sure-cheap", DAY3, 0.9, 10_000),
        provisional("Q-sure-dear", DAY3 + timedelta(hours=1), 0.9, 90_000, kind="real", leak=None),
        provisional("Q-unsure", DAY3 - timedelta(hours=1), 0.3, 5_000).model_copy(
            update={"manager_reason": "Дорого", "reason_mismatch": False}),
        provisional("Q-day-before", DAY3 - timedelta(days=1), 0.9, 500_000),
    ])
    yield s
    s.close()


@pytest.fixture
def client(store, kafka):
    prefix = f"web{datetime.now().timestamp():.0f}."
    settings = Settings(web_token=TOKEN, kafka_bootstrap=kafka.bootstrap, topic_prefix=prefix)
    ensure_topics(settings)
    publisher = KafkaReviewPublisher(EventProducer(kafka.bootstrap, topic_prefix=prefix))
    with TestClient(create_app(store, publisher, settings)) as c:
        c.topic = prefix + REVIEWS.name
        c.kafka_bootstrap = kafka.bootstrap
        yield c
    publisher.close()


pytestmark = pytest.mark.kafka


def test_cards_api_is_the_cards_sql(client):
    day2 = client.get("/api/cards", params={"from": spec.DAY2.isoformat()}).json()["card2"]
    assert (day2["leak_rub"], day2["cases"], day2["hot_cases"]) == (1_248_700, 47, 30)
    day1 = client.get("/api/cards", params={"from": spec.DAY1.isoformat()}).json()["card1"]
    assert (day1["total"], day1["salvageable"], day1["salvageable_pct"], day1["potential_lost_rub"]) == (
        44, 18, 41, 720_000)
    assert client.get("/api/cards", params={"from": "2026-11-19", "to": "2026-11-18"}).status_code == 400


def test_queue_puts_unsure_verdicts_first_then_newest_day_and_money(client):
    queue = client.get("/api/review-queue", params={"from": "2026-11-20", "to": "2026-11-21"}).json()
    assert [q["deal_id"] for q in queue] == ["Q-unsure", "Q-sure-dear", "Q-sure-cheap", "Q-day-before"]
    unsure = queue[0]
    assert unsure["low_confidence"] and unsure["manager_reason"] == "Дорого" and unsure["reason_mismatch"] is False
    assert client.get("/api/review-queue", params={"from": "2026-11-21", "manager": "Никто"}).json() == []


def test_page_shows_the_numbers_and_the_queue(client):
    page = client.get("/", params={"from": "2026-11-21"}).text
    assert "Условные отказы на проверку" in page and "Q-unsure" in page and "низкая уверенность" in page
    assert "Подтвердить" not in page  # not logged in: no buttons
    day2 = client.get("/fragments/cards", params={"from": spec.DAY2.isoformat(), "metric": "count"}).text
    assert "₽1 248 700" in day2 and "Утечка дня" in day2


def test_a_review_the_broker_does_not_take_says_so(store):
    """Nothing is lost silently: the reviewer sees «not sent» and can retry."""
    class Down:
        def publish(self, review):
            raise RuntimeError("broker unavailable")

    with TestClient(create_app(store, Down(), Settings(web_token=TOKEN))) as c:
        answer = c.post("/api/reviews", auth=("Олег", TOKEN), json={"deal_id": "Q-unsure", "action": "confirm"})
        assert answer.status_code == 503 and "try again" in answer.json()["error"]


def test_reviews_need_the_token(client):
    assert client.post("/api/reviews", json={"deal_id": "Q-unsure", "action": "confirm"}).status_code == 401
    bad = client.post("/api/reviews", json={"deal_id": "Q-unsure", "action": "confirm"},
                      headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert client.post("/reviews/Q-unsure", data={"action": "confirm"}).status_code == 401
    assert client.post("/login", data={"reviewer": "x", "token": "nope"}).status_code == 401


def test_confirm_and_correct_reach_the_topic(client):
    login = client.post("/login", data={"reviewer": "Мария", "token": TOKEN}, follow_redirects=False)
    assert login.status_code == 303
    sent = client.post("/reviews/Q-unsure", data={"action": "confirm", "version": "1"})
    assert sent.status_code == 200 and sent.headers["HX-Trigger"] == "review-sent" and "Отправлено" in sent.text
    wrong = client.post("/reviews/Q-sure-dear", data={"action": "correct", "target": "on", "reason": "Дорого",
                                                     "kind": "salvageable", "leak": ""})
    assert wrong.status_code == 422 and "leak" in wrong.text
    fixed = client.post("/api/reviews", auth=("Олег", TOKEN), json={
        "deal_id": "Q-sure-dear", "action": "correct", "reason": "Выбрал конкурента", "kind": "real",
        "comment": "Клиент ушёл к конкуренту с договором до весны"})
    assert fixed.status_code == 202
    assert client.post("/api/reviews", auth=("Олег", TOKEN), json={"deal_id": "A-001", "action": "confirm"}
                       ).status_code == 409  # already confirmed: nothing provisional to confirm

    # A 200/202 means the broker has the review: read the topic to its end, no group to join.
    reviews = {r["deal_id"]: r for _, r in read_all(client.kafka_bootstrap, client.topic)}
    assert reviews["Q-unsure"]["reviewer"] == "Мария"
    assert (reviews["Q-unsure"]["reason"], reviews["Q-unsure"]["kind"], reviews["Q-unsure"]["leak"]) == (
        "Дорого", "salvageable", "Не дожали заинтересованных")  # the AI's verdict, confirmed
    assert (reviews["Q-sure-dear"]["reason"], reviews["Q-sure-dear"]["kind"]) == ("Выбрал конкурента", "real")
    assert reviews["Q-sure-dear"]["reviewer"] == "Олег" and "до весны" in reviews["Q-sure-dear"]["comment"]


def test_one_leak_s_cases_are_listed_even_below_the_top_500_of_all(store):
    """The leak filter applies before the list's LIMIT 500: a leak whose cases all rank below
    500 dearer cases of other leaks still lists them (the board filtered after the limit).
    On a day of their own, long before the spec's days and their baselines (one chdb per
    process: the module's store)."""
    day = datetime(2026, 9, 1, 10, 0, tzinfo=spec.TZ)
    dear = [refusal(f"D-{i:03}", day + timedelta(seconds=i), leak="Не отработали возражение", amount=900_000)
            for i in range(510)]
    cheap = [refusal(f"C-{i}", day + timedelta(seconds=i), leak="Не связались вовремя", amount=1_000 + i)
             for i in range(3)]
    store.insert_refusals(dear + cheap)
    with TestClient(create_app(store, None, Settings(web_token=""))) as c:
        period = {"from": "2026-09-01", "to": "2026-09-01"}
        every = c.get("/api/cases", params=period).json()
        late = c.get("/api/cases", params={**period, "leak": "Не связались вовремя"}).json()
        page = c.get("/fragments/cases", params={**period, "leak": "Не связались вовремя"}).text
    assert len(every) == 500 and {r["leak"] for r in every} == {"Не отработали возражение"}
    assert [r["deal_id"] for r in late] == ["C-2", "C-1", "C-0"]
    assert "C-0" in page and "D-000" not in page

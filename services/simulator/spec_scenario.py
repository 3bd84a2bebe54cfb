"""The design's two spec examples as replayable traffic.

Day 1 must show card 1: 44 target refusals, 18 salvageable (41%), ₽720 000 at a ₽40 000
average check. Day 2 must show card 2: leak ₽1 248 700 on 47 cases, «Не дожали
заинтересованных» ₽612 000 (49%, 18 cases), 30 of 47 hot. Around them: spam, duplicates,
a deal reopened after its loss, one marked spam after its loss, won deals, late
transcripts and malformed events, none of which may change a number.

QA reviews fix each refusal's labels, so the numbers test the pipeline and the SQL, not
the classifier (`with_reviews=False` leaves the classifier's labels in place).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import cycle
from typing import Any
from zoneinfo import ZoneInfo

from schemas.conversation import Labels
from schemas.labels import Kind, Leak, Reason
from schemas import topics
from schemas.events import CallEvent, DealEvent, RefusalReview, TranscriptTurn
from services.simulator.scripts import DealPlan, closest_script, deal_events, load_scripts

TZ = ZoneInfo("Europe/Moscow")
DAY1, DAY2 = date(2026, 11, 18), date(2026, 11, 19)
PIPELINE = "Основная"
AVERAGE_CHECK_RUB = 40_000
MANAGERS = ("Анна Смирнова", "Игорь Петров", "Ольга Иванова", "Дмитрий Козлов")

S, R = Kind.SALVAGEABLE, Kind.REAL
NOT_CLOSED, OBJECTION, NO_MATERIALS, LATE = Leak.NOT_CLOSED, Leak.OBJECTION, Leak.NO_MATERIALS, Leak.LATE_CALLBACK


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    kind: Kind
    leak: Leak | None
    hot: bool
    amount_rub: int | None
    stage: str

    @property
    def labels(self) -> Labels:
        return Labels(target=True, reason=self.reason, kind=self.kind, leak=self.leak, hot=self.hot)


def _many(n: int, reason: Reason, kind: Kind, leak: Leak | None, *, hot: int = 0,
          amounts: list[int | None] | None = None, stage: str = "Переговоры") -> list[Refusal]:
    amounts = amounts if amounts is not None else [None] * n
    assert len(amounts) == n
    return [Refusal(reason, kind, leak, i < hot, amounts[i], stage) for i in range(n)]


def day1_refusals() -> list[Refusal]:
    """44 target refusals: 18 salvageable, 26 real."""
    amounts = cycle([35_000, None, 52_000, 41_000, None, 28_000])
    a = lambda n: [next(amounts) for _ in range(n)]  # noqa: E731
    return [
        *_many(4, Reason.EXPENSIVE, S, OBJECTION, hot=1, amounts=a(4)),
        *_many(1, Reason.EXPENSIVE, S, NOT_CLOSED, hot=1, amounts=a(1), stage="Выставлен счёт"),
        *_many(4, Reason.LATE_CONTACT, S, LATE, amounts=a(4), stage="Новая заявка"),
        *_many(3, Reason.GHOSTED, S, NO_MATERIALS, hot=1, amounts=a(3), stage="КП отправлено"),
        *_many(1, Reason.GHOSTED, S, NOT_CLOSED, hot=1, amounts=a(1), stage="Выставлен счёт"),
        *_many(1, Reason.COMPETITOR, S, LATE, amounts=a(1)),
        *_many(2, Reason.COMPETITOR, S, NOT_CLOSED, hot=2, amounts=a(2), stage="Согласование договора"),
        *_many(2, Reason.NO_VALUE, S, OBJECTION, amounts=a(2)),
        *_many(7, Reason.EXPENSIVE, R, None, amounts=a(7)),
        *_many(6, Reason.TERMS, R, None, amounts=a(6), stage="Согласование договора"),
        *_many(5, Reason.COMPETITOR, R, None, amounts=a(5)),
        *_many(4, Reason.NO_TRUST, R, None, amounts=a(4), stage="Квалификация"),
        *_many(2, Reason.GHOSTED, R, None, amounts=a(2), stage="Квалификация"),
        *_many(2, Reason.NO_VALUE, R, None, amounts=a(2)),
    ]


def day2_refusals() -> list[Refusal]:
    """47 salvageable cases worth ₽1 248 700 (30 hot); «Не дожали заинтересованных»
    ₽612 000 on 18 cases; plus 20 real refusals that card 2 must ignore."""
    no_amount = None
    return [
        # Не дожали заинтересованных: 8 × average check + ₽292 000 = ₽612 000, all hot.
        *_many(8, Reason.GHOSTED, S, NOT_CLOSED, hot=8, amounts=[no_amount] * 8, stage="Выставлен счёт"),
        *_many(4, Reason.COMPETITOR, S, NOT_CLOSED, hot=4,
               amounts=[25_000, 27_000, 28_000, 29_000], stage="Выставлен счёт"),
        *_many(6, Reason.EXPENSIVE, S, NOT_CLOSED, hot=6,
               amounts=[30_000, 30_000, 30_000, 31_000, 31_000, 31_000], stage="Переговоры"),
        # Не отработали возражение: 5 × 40 000 + ₽98 700 = ₽298 700.
        *_many(12, Reason.EXPENSIVE, S, OBJECTION, hot=6,
               amounts=[None] * 5 + [12_500, 14_200, 13_000, 15_000, 14_000, 15_000, 15_000]),
        # Не отправили материалы после звонка: 4 × 40 000 + ₽40 000 = ₽200 000.
        *_many(10, Reason.GHOSTED, S, NO_MATERIALS, hot=4,
               amounts=[None] * 4 + [5_000, 6_000, 7_000, 7_000, 7_000, 8_000], stage="КП отправлено"),
        # Не связались вовремя: 2 × 40 000 + ₽58 000 = ₽138 000.
        *_many(7, Reason.LATE_CONTACT, S, LATE, hot=2,
               amounts=[None, None, 10_000, 11_000, 12_000, 12_000, 13_000], stage="Новая заявка"),
        *_many(8, Reason.EXPENSIVE, R, None, amounts=[60_000] * 8),
        *_many(6, Reason.TERMS, R, None, amounts=[None] * 6, stage="Согласование договора"),
        *_many(6, Reason.COMPETITOR, R, None, amounts=[45_000] * 6),
    ]


NON_TARGET = Labels(target=False)


@dataclass
class Scenario:
    events: list[tuple[topics.TopicSpec, Any]] = field(default_factory=list)
    reviews: list[RefusalReview] = field(default_factory=list)
    malformed: list[tuple[str, bytes | None, bytes]] = field(default_factory=list)
    refusals: dict[str, Refusal] = field(default_factory=dict)  # deal id -> intended labels
    days: dict[str, date] = field(default_factory=dict)  # deal id -> day lost


def _lost_at(day: date, n: int) -> datetime:
    """Spread the day's losses between 09:00 and 20:00 local time."""
    return datetime.combine(day, time(9, 0), tzinfo=TZ) + timedelta(minutes=7 * n % 660)


def build(*, with_reviews: bool = True) -> Scenario:
    scripts = load_scripts()
    sc = Scenario()
    managers = cycle(MANAGERS)

    def add(plan: DealPlan) -> list:
        evs = deal_events(plan)
        sc.events.extend(evs)
        return evs

    for tag, day, refusals in (("A", DAY1, day1_refusals()), ("B", DAY2, day2_refusals())):
        n = 0
        for i, r in enumerate(refusals):
            deal_id = f"{tag}-{i + 1:03d}"
            add(DealPlan(deal_id, PIPELINE, next(managers), r.amount_rub, _lost_at(day, n),
                         closest_script(scripts, r.labels, i), stage_before_loss=r.stage))
            sc.refusals[deal_id] = r
            sc.days[deal_id] = day
            n += 1
        # Not target: spam and duplicates never reach the cards.
        for j in range(4):
            add(DealPlan(f"{tag}-spam-{j}", PIPELINE, next(managers), 90_000, _lost_at(day, n + j),
                         closest_script(scripts, NON_TARGET, j), is_spam=True))
        for j in range(2):
            add(DealPlan(f"{tag}-dup-{j}", PIPELINE, next(managers), None, _lost_at(day, n + 4 + j),
                         closest_script(scripts, Labels(target=True, reason=Reason.EXPENSIVE, kind=S,
                                                        leak=OBJECTION), j),
                         duplicate_of=f"{tag}-001"))
        # Lost, then marked spam; lost, then reopened: both retracted.
        later = _lost_at(day, n + 8) + timedelta(minutes=20)
        spam_late = f"{tag}-spam-late"
        add(DealPlan(spam_late, PIPELINE, next(managers), 70_000, _lost_at(day, n + 8),
                     closest_script(scripts, Labels(target=True, reason=Reason.EXPENSIVE, kind=S, leak=OBJECTION), 5)))
        sc.events.append((topics.DEALS, DealEvent(event_id=f"{spam_late}:marked", deal_id=spam_late, ts=later,
                                                  type="updated", is_spam=True)))
        reopened = f"{tag}-reopened"
        add(DealPlan(reopened, PIPELINE, next(managers), 55_000, _lost_at(day, n + 9),
                     closest_script(scripts, Labels(target=True, reason=Reason.GHOSTED, kind=S, leak=NOT_CLOSED), 3)))
        sc.events.append((topics.DEALS, DealEvent(event_id=f"{reopened}:reopen", deal_id=reopened, ts=later,
                                                  type="stage_changed", stage="Переговоры")))
        # Won deals feed the average check only.
        for j in range(3):
            add(DealPlan(f"{tag}-won-{j}", PIPELINE, next(managers), 40_000, _lost_at(day, n + 10 + j),
                         closest_script(scripts, Labels(target=True, reason=Reason.EXPENSIVE, kind=R), j), won=True))

        # A transcript that arrives after the loss (re-classified, still one row).
        late_deal = f"{tag}-002"
        lost = _lost_at(day, 1)
        sc.events.append((topics.CALLS, CallEvent(
            event_id=f"{late_deal}:late-call", deal_id=late_deal, ts=lost - timedelta(minutes=10),
            call_id=f"{late_deal}-late", direction="out", status="answered", duration_s=95,
            manager=MANAGERS[1], transcript=[
                TranscriptTurn(offset_s=0, speaker="manager", text="добрый день это по вашей заявке удобно говорить"),
                TranscriptTurn(offset_s=6, speaker="client", text="ну вообще мы уже решили не брать спасибо")])))

    if with_reviews:
        for deal_id, r in sc.refusals.items():
            l = r.labels
            sc.reviews.append(RefusalReview(
                event_id=f"{deal_id}:review", deal_id=deal_id, ts=_lost_at(sc.days[deal_id], 100),
                reviewer="qa.lead", target=True, reason=l.reason, kind=l.kind, leak=l.leak, hot=l.hot))

    sc.malformed = [
        (topics.DEALS.name, b"A-001", b"{not json"),
        (topics.CALLS.name, b"A-003", b'{"event_id": "x1", "deal_id": "A-003"}'),
        (topics.ACTIVITIES.name, b"A-004",
         b'{"event_id": "x2", "deal_id": "A-004", "ts": "2026-11-18T10:00:00+03:00", "type": "teleport"}'),
    ]
    return sc


def day_period(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=TZ)
    return start, start + timedelta(days=1) - timedelta(seconds=1)

"""The «Воронка отказов»: which refusals may come back, why, and when to call again.
Pure: a refusal record and the account's time zone in, an entry out; no clock, so a replay
of the same record yields the same entry.

Why the client may come back follows from the reason and the evidence quote: a price
refusal is a budget that may come later; a silent client may answer later; a competitor's
client comes back only when a contract is mentioned (it ends); any other reason qualifies
when the client put the decision off. The date comes from what the client said («через
полгода», «после нового года», «договор до 15 марта»), else from a default per cause.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from schemas.events import ClassifiedRefusal
from schemas.labels import Reason
from schemas.reactivation import ComeBack, ReactivationEntry

# When the conversation names no date: months to wait, per cause (silence: days).
DEFAULT_WAIT = {
    ComeBack.BUDGET_LATER: ("months", 3),  # a new quarter's budget
    ComeBack.POSTPONED: ("months", 1),
    ComeBack.WENT_SILENT: ("days", 14),
    ComeBack.CONTRACT_ENDS: ("months", 6),  # an annual contract of unknown start: half-way on average
}
# A named end («договор до марта», «до конца года») is called this long before it.
LEAD_BEFORE_END = timedelta(days=14)

_CONTRACT = re.compile(r"договор|контракт|подписк|абонемент|тариф оплачен|оплачено до")
_POSTPONE = re.compile(
    r"подума|позже|попозже|не сейчас|пока не|отлож|верн[её]мся|вернусь|верн[её]тся|через \w+|после нов\w+ год|"
    r"в следующ\w+|осенью|весной|летом|зимой|к осени|после праздник|перезвонит\w*|созвонимся|"
    r"не в этом|в новом году|в начале года|в конце года")

_MONTHS = ("январ", "феврал", "март", "апрел", "ма", "июн", "июл", "август", "сентябр", "октябр", "ноябр", "декабр")
_MONTH_RE = r"(январ|феврал|март|апрел|ма[йяе]|июн|июл|август|сентябр|октябр|ноябр|декабр)\w*"
_NUMBERS = {"один": 1, "одну": 1, "одна": 1, "пару": 2, "пара": 2, "два": 2, "две": 2, "три": 3, "четыре": 4,
            "пять": 5, "шесть": 6, "семь": 7, "восемь": 8, "девять": 9, "десять": 10}
_UNITS = {"д": "days", "н": "weeks", "м": "months", "г": "years", "л": "years", "к": "quarters"}


@dataclass(frozen=True)
class Recontact:
    on: date
    basis: str  # "mentioned" | "default"
    phrase: str | None = None


def normalized(text: str) -> str:
    return " ".join(text.lower().replace("ё", "е").split())


def come_back(refusal: ClassifiedRefusal) -> ComeBack | None:
    """Why this client may come back, or None when the refusal does not belong on the list."""
    if not refusal.active or not refusal.target or refusal.reason is None:
        return None
    text = normalized(refusal.evidence)
    if refusal.reason == Reason.EXPENSIVE:
        return ComeBack.BUDGET_LATER
    if refusal.reason == Reason.GHOSTED:
        return ComeBack.WENT_SILENT
    if refusal.reason == Reason.COMPETITOR:
        return ComeBack.CONTRACT_ENDS if _CONTRACT.search(text) else None
    return ComeBack.POSTPONED if _POSTPONE.search(text) else None


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _shift(day: date, unit: str, n: int) -> date:
    if unit == "days":
        return day + timedelta(days=n)
    if unit == "weeks":
        return day + timedelta(weeks=n)
    if unit == "quarters":
        return add_months(day, 3 * n)
    if unit == "years":
        return add_months(day, 12 * n)
    return add_months(day, n)


def _month_number(stem: str) -> int:
    for i, prefix in enumerate(_MONTHS, start=1):
        if stem.startswith(prefix):
            return i
    raise ValueError(stem)


def _next_date(after: date, month: int, day: int | None = None) -> date:
    """The next `day.month` from `after` (a month alone: its 1st; the current month counts)."""
    if day is None:
        year = after.year if month >= after.month else after.year + 1
        return date(year, month, 1)
    year = after.year if (month, day) >= (after.month, after.day) else after.year + 1
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _mentioned(text: str, lost_on: date) -> tuple[date, bool, str] | None:
    """The moment the text names: (date, whether it is an end to call before, phrase)."""
    end = r"(?:до|к|по|заканчивается|закончится|истекает|истечет)"
    m = re.search(rf"(?:({end})\s+)?(\d{{1,2}})\s+{_MONTH_RE}", text)
    if m:
        month = _month_number(m.group(3))
        day = int(m.group(2))
        if 1 <= day <= calendar.monthrange(2024, month)[1]:
            return _next_date(lost_on, month, day), bool(m.group(1)), m.group(0)
    m = re.search(rf"(?:({end})\s+)?\b(\d{{1,2}})\.(\d{{1,2}})(?:\.(\d{{2,4}}))?\b", text)
    if m and 1 <= int(m.group(3)) <= 12 and 1 <= int(m.group(2)) <= 31:
        day, month = int(m.group(2)), int(m.group(3))
        if m.group(4):
            year = int(m.group(4)) + (2000 if len(m.group(4)) == 2 else 0)
            try:
                return date(year, month, day), bool(m.group(1)), m.group(0)
            except ValueError:
                pass
        else:
            return _next_date(lost_on, month, min(day, calendar.monthrange(lost_on.year, month)[1])), \
                bool(m.group(1)), m.group(0)
    m = re.search(r"через\s+(полгода|полтора месяца|(?:(\d+|\w+)\s+)?(дн|день|недел|месяц|год|лет|квартал)\w*)", text)
    if m:
        phrase = m.group(0)
        if m.group(1) == "полгода":
            return add_months(lost_on, 6), False, phrase
        if m.group(1) == "полтора месяца":
            return lost_on + timedelta(days=45), False, phrase
        count = m.group(2)
        n = int(count) if count and count.isdigit() else _NUMBERS.get(count or "", 1 if not count else 0)
        unit = _UNITS["н" if m.group(3).startswith("недел") else m.group(3)[0]]
        if n:
            return _shift(lost_on, unit, n), False, phrase
    m = re.search(r"после нов\w+ года|после новогодних\w*|в новом году|в начале (?:следующего )?года|"
                  r"в следующем году|после праздников", text)
    if m and (m.group(0) != "после праздников" or lost_on.month in (12, 1)):
        return _next_date(lost_on, 1, 12), False, m.group(0)  # after Russia's New Year holidays (Jan 1-8)
    m = re.search(r"(?:до|к|в)\s+конц\w*\s+(года|месяца|квартала)", text)
    if m:
        if m.group(1) == "года":
            moment = date(lost_on.year, 12, 31)
        elif m.group(1) == "месяца":
            moment = add_months(lost_on.replace(day=1), 1) - timedelta(days=1)
        else:
            first = date(lost_on.year, 3 * ((lost_on.month - 1) // 3) + 1, 1)
            moment = add_months(first, 3) - timedelta(days=1)
        return moment, True, m.group(0)
    m = re.search(r"(?:на|в) следующ\w+ (недел|месяц|квартал)\w*", text)
    if m:
        unit = m.group(1)
        if unit == "недел":
            return lost_on + timedelta(days=7 - lost_on.weekday()), False, m.group(0)
        if unit == "месяц":
            return add_months(lost_on.replace(day=1), 1), False, m.group(0)
        first = date(lost_on.year, 3 * ((lost_on.month - 1) // 3) + 1, 1)
        return add_months(first, 3), False, m.group(0)
    m = re.search(rf"\b(после|с|со|в|во|к|до|ближе к)\s+{_MONTH_RE}", text)
    if m:
        month = _month_number(m.group(2))
        start = _next_date(lost_on, month)
        if m.group(1) == "после":
            return add_months(start, 1), False, m.group(0)
        return start, m.group(1) == "до", m.group(0)
    seasons = {"весн": 3, "лет": 6, "осен": 9, "зим": 12}
    m = re.search(r"\b(?:(после|к|до|с|ближе к)\s+)?(весн|лет|осен|зим)(?:ой|ом|ью|е|ы|а|у|и)\b", text)
    if m:
        start = _next_date(lost_on, seasons[m.group(2)])
        if m.group(1) == "после":
            return add_months(start, 3), False, m.group(0)
        return start, m.group(1) == "до", m.group(0)
    return None


def _workday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7) if day.weekday() >= 5 else day


def recontact(cause: ComeBack, evidence: str, lost_on: date) -> Recontact:
    """The day to call again: what the client named, else the cause's default; a weekday
    after the loss."""
    found = _mentioned(normalized(evidence), lost_on)
    if found:
        moment, is_end, phrase = found
        day = moment - LEAD_BEFORE_END if is_end or cause == ComeBack.CONTRACT_ENDS else moment
        basis = "mentioned"
    else:
        unit, n = DEFAULT_WAIT[cause]
        day, basis, phrase = _shift(lost_on, unit, n), "default", None
    day = max(day, lost_on + timedelta(days=1))
    return Recontact(on=_workday(day), basis=basis, phrase=phrase)


def _fields(refusal: ClassifiedRefusal) -> dict:
    return dict(
        deal_id=refusal.deal_id, version=refusal.version, status=refusal.status, lost_at=refusal.lost_at,
        decided_at=refusal.classified_at, pipeline=refusal.pipeline, manager=refusal.manager,
        reason=refusal.reason, kind=refusal.kind, amount_rub=refusal.amount_rub, money_rub=refusal.money_rub,
        evidence=refusal.evidence,
    )


def reactivation_entry(refusal: ClassifiedRefusal, tz: ZoneInfo) -> ReactivationEntry | None:
    """The list entry for a refusal whose client may come back; None otherwise."""
    cause = come_back(refusal)
    if cause is None:
        return None
    when = recontact(cause, refusal.evidence, refusal.lost_at.astimezone(tz).date())
    return ReactivationEntry(**_fields(refusal), active=True, come_back=cause, recontact_on=when.on,
                             date_basis=when.basis, date_phrase=when.phrase)


def withdrawal(refusal: ClassifiedRefusal) -> ReactivationEntry:
    """Takes the deal off the list: the refusal was retracted or no longer qualifies."""
    return ReactivationEntry(**_fields(refusal), active=False, come_back=None, recontact_on=None,
                             date_basis=None, date_phrase=None)


def decide(refusal: ClassifiedRefusal, *, listed: bool, tz: ZoneInfo) -> ReactivationEntry | None:
    """What to publish for a refusal: an entry, a withdrawal of an earlier one, or nothing."""
    entry = reactivation_entry(refusal, tz)
    if entry is not None:
        return entry
    return withdrawal(refusal) if listed else None


def task_text(entry: ReactivationEntry) -> str:
    """The recontact task a manager sees in the CRM (Russian, like the boards)."""
    quote = entry.evidence.strip()
    quote = (quote[:297] + "…") if len(quote) > 300 else quote
    text = f"Воронка отказов: связаться снова — {entry.come_back}. Причина отказа: {entry.reason}."
    return text + (f" Клиент: «{quote}»" if quote else "")

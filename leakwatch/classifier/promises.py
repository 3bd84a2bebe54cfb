"""Promises a manager made («пришлю КП сегодня», «перезвоню завтра в 11», a CRM task
«Перезвонить» / «Отправить КП») and whether the timeline shows them kept.

Two of the four leaks happen after the call; this is where the stream's join of what was
said with what the CRM and telephony recorded afterwards is made. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal, Sequence

from leakwatch.classifier import lexicon as lx
from leakwatch.classifier.system_events import EventKind, TaskKind
from leakwatch.classifier.timeline import Entry, quote

# A call back within this much of its due time still counts as kept.
CALLBACK_GRACE = timedelta(hours=2)
# A task without a time is due within a working day.
DEFAULT_CALLBACK_WINDOW = timedelta(days=1)
# A promise to send made this close to the end of the deal (a farewell «пришлю статистику»)
# had no time to be kept or broken.
MATERIALS_WINDOW = timedelta(hours=12)
# A task created this soon after a spoken promise is the same promise, recorded in the CRM.
TASK_MERGE_WINDOW = timedelta(hours=2)
# Client words this soon after a promise belong to the same call or chat («жду»): they are
# not the client coming back on their own.
SAME_CONVERSATION = timedelta(minutes=30)
# «давайте я пришлю» is in the future tense already; these make an infinitive a commitment.
_COMMITTING_AUXILIARIES = frozenset({"быть", "постараться"})
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\bв\s+\d{1,2}\b|\bчерез\s+\d+", re.IGNORECASE)

What = Literal["callback", "materials"]


@dataclass(frozen=True, slots=True)
class Promise:
    what: What
    made_at: datetime
    due: datetime | None
    quote: str
    # True kept, False broken, None: nothing could be due yet when the conversation ended.
    kept: bool | None
    why: str  # what decided `kept`, e.g. «Задача «Перезвонить» просрочена»
    # The client asked for it, agreed a time or chased it: a broken one cost the deal.
    client_waiting: bool = True


def _commits(entry: Entry, verbs: frozenset[str]) -> bool:
    """The manager commits to one of `verbs`: «пришлю», «перезвоним», «буду звонить»."""
    for i, t in enumerate(entry.words):
        if t.lemma not in verbs or entry.negated(i):
            continue
        if t.first_person_future:
            return True
        before = {w.lemma for w in entry.words[max(0, i - 3) : i]}
        if "INFN" in t.grammemes and before & _COMMITTING_AUXILIARIES:
            return True
    return False


def _hortative(entry: Entry) -> bool:
    """«давайте посчитаем»: an offer to do it together, now."""
    return any(t.lemma in ("давать", "давай", "давайте") for t in entry.words)


def _mentions_material(entry: Entry | None) -> bool:
    return entry is not None and any(lemma in lx.MATERIAL_NOUNS for lemma in entry.lemmas)


def _asks_for(entry: Entry | None, verbs: frozenset[str]) -> bool:
    """«пришлите КП», «перезвоните завтра»: an imperative (or «вы …те») from the client."""
    if entry is None:
        return False
    return any(
        t.lemma in verbs and ("impr" in t.grammemes or {"2per", "futr"} <= t.grammemes) for t in entry.words
    )


def _time_bound(entry: Entry | None) -> bool:
    """«завтра в 11», «после обеда», «в понедельник»: a promise one can be late for."""
    return entry is not None and (lx.WHEN.matches(entry.lemmas) or bool(_CLOCK.search(entry.message.text)))


def _promise_kind(entry: Entry, previous_client: Entry | None) -> What | None:
    if entry.speaker != "manager":
        return None
    if _commits(entry, lx.SEND_VERBS):
        return "materials"
    # «я посмотрю и вернусь» without a time is vague talk, not a call-back one can miss.
    if _commits(entry, lx.CALLBACK_VERBS) and (_time_bound(entry) or _time_bound(previous_client)):
        return "callback"
    # «смету сделаю до пятницы»; but «посчитаю и перезвоню» (above) is a call-back, and
    # «договор подготовим» (the next step of a sale) or «давайте посчитаем» (now, together)
    # promise nothing to send.
    if (_commits(entry, lx.MAKE_VERBS) and not _hortative(entry) and _time_bound(entry)
            and (_mentions_material(entry) or _mentions_material(previous_client))):
        return "materials"
    # A short «Хорошо, конечно» to the client's request is a promise as well.
    if previous_client is not None and lx.AGREEMENT.matches(entry.lemmas) and len(entry.words) <= 12:
        if _asks_for(previous_client, lx.SEND_VERBS):
            return "materials"
        if _asks_for(previous_client, lx.CALLBACK_VERBS) and _time_bound(previous_client):
            return "callback"
    return None


def _text_due(entry: Entry, previous_client: Entry | None) -> datetime:
    """When a spoken «перезвоню …» falls due: «сегодня» / «через час» → in 4 h, «завтра» →
    the end of the next day, a weekday or «неделя» → a week; otherwise a working day."""
    ts = entry.ts
    said = entry.lemmas + (previous_client.lemmas if previous_client is not None else ())
    if lx.SOON.matches(said):
        return ts + timedelta(hours=4)
    if lx.TOMORROW.matches(said):
        return datetime.combine(ts.date() + timedelta(days=1), time(20, 0), ts.tzinfo)
    if lx.NEXT_WEEK.matches(said):
        return ts + timedelta(days=7)
    return ts + DEFAULT_CALLBACK_WINDOW


def _manager_says_sent(e: Entry) -> bool:
    """«Отправила счёт», «отправляю ссылку», «во вложении»: the thing went out."""
    if e.speaker != "manager":
        return False
    if lx.SENT_NOTICE.matches(e.lemmas):
        return True
    return any(
        t.lemma in lx.SEND_VERBS and (t.past or "pres" in t.grammemes) and not e.negated(i)
        for i, t in enumerate(e.words)
    )


def _chases(e: Entry) -> bool:
    """The client is waiting for it: «так и не получил», «жду смету», a bare «?»."""
    if e.speaker != "client":
        return False
    return lx.NOT_RECEIVED.matches(e.lemmas) or lx.CHASING.matches(e.lemmas) or (
        not e.words and "?" in e.message.text
    )


def _materials_outcome(entries: Sequence[Entry], promise: Entry) -> tuple[bool | None, str]:
    for e in entries[promise.index + 1 :]:
        if e.is_event(EventKind.SENT) or e.is_event(EventKind.TASK_DONE, task=TaskKind.MATERIALS):
            return True, e.message.text
        if e.is_event(EventKind.TASK_OVERDUE, task=TaskKind.MATERIALS):
            return False, e.message.text
        if _manager_says_sent(e):
            return True, quote(e.message.text)
        if e.speaker == "client":
            if lx.NOT_RECEIVED.matches(e.lemmas):
                return False, quote(e.message.text)
            if lx.RECEIVED.matches(e.lemmas):
                return True, quote(e.message.text)
    if entries[-1].ts - promise.ts < MATERIALS_WINDOW:
        return None, "сделка закрыта раньше, чем можно было отправить"
    return False, "после обещания нет отправки"


def _client_waiting_for_materials(entries: Sequence[Entry], promise: Entry, previous_client: Entry | None) -> bool:
    """Asked for it, chased it, or went silent after it (rather than moving on to other
    matters): then the missing material is what lost the deal."""
    if _mentions_material(previous_client) or _asks_for(previous_client, lx.SEND_VERBS):
        return True
    later = [e for e in entries[promise.index + 1 :] if e.speaker == "client"]
    if any(_chases(e) for e in later):
        return True
    if not later:
        # Silence after the promise counts only from a client who was in the conversation.
        return any(e.speaker == "client" for e in entries[: promise.index])
    return all(len(e.words) <= 3 for e in later)


def _callback_outcome(entries: Sequence[Entry], promise: Entry, due: datetime) -> tuple[bool | None, str]:
    limit = due + CALLBACK_GRACE
    for e in entries[promise.index + 1 :]:
        if e.is_event(EventKind.TASK_OVERDUE, task=TaskKind.CALLBACK):
            return False, e.message.text
        if e.speaker == "client" and lx.NO_CALLBACK.matches(e.lemmas):
            return False, quote(e.message.text)
        if e.is_manager_contact:
            if e.ts <= limit:
                return True, quote(e.message.text)
            return False, f"следующий контакт через {_human(e.ts - due)} после срока"
        if (e.is_client_inbound and e.ts <= limit and not e.is_event(EventKind.MISSED_CALL)
                and e.ts - promise.ts > SAME_CONVERSATION and not _chases(e)):
            # The client came back first: the call back is moot, not broken.
            return None, "клиент вышел на связь сам"
    if entries[-1].ts < limit:
        return None, "сделка закрыта до срока"
    return False, "после обещания менеджер не связался"


def _human(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.0f} дн." if hours >= 48 else f"{hours:.0f} ч"


def _task_promise(entries: Sequence[Entry], task: Entry, spoken: Entry | None) -> Promise | None:
    """A CRM task is a promise with an exact due time; when the manager said it aloud just
    before, it is the same promise and keeps the spoken quote."""
    kind = task.event.task
    if kind == TaskKind.OTHER:
        return None
    quote_text = quote(spoken.message.text) if spoken is not None else task.message.text
    if kind == TaskKind.CALLBACK:
        due = task.event.due or task.ts + DEFAULT_CALLBACK_WINDOW
        kept, why = _callback_outcome(entries, task, due)
        return Promise("callback", task.ts, due, quote_text, kept, why)
    kept, why = _materials_outcome(entries, task)
    return Promise("materials", task.ts, task.event.due, quote_text, kept, why)


def _spoken_promise(entries: Sequence[Entry], e: Entry, what: What, previous_client: Entry | None) -> Promise:
    if what == "materials":
        kept, why = _materials_outcome(entries, e)
        waiting = _client_waiting_for_materials(entries, e, previous_client)
        return Promise("materials", e.ts, None, quote(e.message.text), kept, why, waiting)
    due = _text_due(e, previous_client)
    kept, why = _callback_outcome(entries, e, due)
    return Promise("callback", e.ts, due, quote(e.message.text), kept, why)


def find_promises(entries: Sequence[Entry]) -> tuple[Promise, ...]:
    promises: list[Promise] = []
    previous_client: Entry | None = None
    spoken: dict[str, tuple[int, Entry]] = {}  # what -> (index in promises, entry), for merging
    for e in entries:
        if e.is_event(EventKind.TASK_CREATED):
            what = "callback" if e.event.task == TaskKind.CALLBACK else "materials"
            recent = spoken.pop(what, None)
            if recent is not None and e.ts - recent[1].ts > TASK_MERGE_WINDOW:
                recent = None
            promise = _task_promise(entries, e, recent[1] if recent else None)
            if promise is not None and recent is not None:
                promises[recent[0]] = promise
            elif promise is not None:
                promises.append(promise)
            continue
        what = _promise_kind(e, previous_client)
        if what is not None:
            promises.append(_spoken_promise(entries, e, what, previous_client))
            spoken[what] = (len(promises) - 1, e)
        if e.speaker == "client":
            previous_client = e
        elif e.speaker == "manager":
            previous_client = None
    return tuple(promises)

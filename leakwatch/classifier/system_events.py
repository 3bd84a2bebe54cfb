"""CRM and telephony facts as typed events.

In the stream the facts arrive structured (`ConversationInput.events`, built by the deal
state from the CRM and telephony events) and nothing here guesses. For text-only input
(`leakwatch classify FILE`) the `system` messages are read back by `parse_event`: CRMs word
the same fact in many ways («Исходящий, разговор 4:51», «Outbound call → no answer»,
«Задача «…» · 25.11 13:00»), so the reader looks for the few words that decide the kind,
in Russian and English, in a fixed order (a task about a call is a task, not a call), and
answers OTHER — unknown, changes nothing — when it is not sure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.conversation import EventKind, Message, SystemFact, TaskKind

__all__ = ["EventKind", "TaskKind", "SystemEvent", "parse_event", "parse_due", "from_fact",
           "MANAGER_CONTACT_KINDS", "CLIENT_INBOUND_KINDS"]

# Telephony and meeting kinds that mean the manager actually reached (or tried to reach) the client.
MANAGER_CONTACT_KINDS = frozenset(
    {EventKind.OUTBOUND_CALL, EventKind.OUTBOUND_NO_ANSWER, EventKind.INBOUND_CALL, EventKind.MEETING,
     EventKind.REMINDER_SENT, EventKind.SENT}
)
CLIENT_INBOUND_KINDS = frozenset({EventKind.INBOUND_REQUEST, EventKind.MISSED_CALL})

_CALLBACK_TITLE = re.compile(
    r"перезвон|позвон|звонок|звонк|связат|набрат|созвон|дозвон|прозвон|сообщить|напомнит|\bcall\b|call[- ]?back|follow[- ]?up|ring\b",
    re.IGNORECASE,
)
_MATERIALS_TITLE = re.compile(
    r"отправ|выслат|прислат|выстав|\bкп\b|сч[её]т|договор|документ|материал|смет|расч[её]т|подборк|"
    r"программ|планировк|прайс|презентац|\bsend\b|proposal|quote|invoice|contract|offer|deck|\bpdf\b|"
    r"\bcase\b|comparison|brochure|pricing|видео|памятк|→ клиент",
    re.IGNORECASE,
)
_DOTTED = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})(?:\.(?P<y>\d{2,4}))?(?:[ ,T]+(?:в\s*)?(?P<H>\d{1,2})[:.](?P<M>\d{2}))?"
)
_CLOCK_ONLY = re.compile(r"(?:\bна|\bсрок|\bdue|\bв|\bat|\bдо)\s+(?P<H>[01]?\d|2[0-3])[:.](?P<M>[0-5]\d)\b", re.IGNORECASE)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:?\d{2}|Z)?)?")
_OFF_HOURS = re.compile(
    r"нерабоч|выходн\w* д|праздн|ночь|ночн|вне рабоч|не в смене|не в сети|after[- ]hours|out of hours|"
    r"off[- ]hours|holiday|weekend|не работа(ет|ем)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[«\"'“‘](?P<title>[^»\"'”’]{2,})[»\"'”’]")


@dataclass(frozen=True, slots=True)
class SystemEvent:
    kind: EventKind
    ts: datetime
    detail: str = ""  # material name, task title, stage transition, close reason
    due: datetime | None = None  # for a created task
    task_kind: TaskKind | None = None  # set when the source said what the task is for
    marked_off_hours: bool | None = None  # set by a structured source; else read off the text

    @property
    def task(self) -> TaskKind:
        if self.kind not in (EventKind.TASK_CREATED, EventKind.TASK_OVERDUE, EventKind.TASK_DONE):
            return TaskKind.OTHER
        if self.task_kind is not None:
            return self.task_kind
        return task_kind(self.detail)

    @property
    def off_hours(self) -> bool:
        """Outside working time («нерабочий праздничный день», «менеджер не в смене»)."""
        if self.marked_off_hours is not None:
            return self.marked_off_hours
        return bool(_OFF_HOURS.search(self.detail))


def task_kind(title: str) -> TaskKind:
    if _CALLBACK_TITLE.search(title):
        return TaskKind.CALLBACK
    return TaskKind.MATERIALS if _MATERIALS_TITLE.search(title) else TaskKind.OTHER


def from_fact(fact: SystemFact) -> SystemEvent:
    """A structured fact from the stream: nothing to read back."""
    task = TaskKind(fact.task) if fact.task else None
    return SystemEvent(fact.kind, fact.ts, fact.detail, fact.due, task, fact.off_hours)


def parse_due(text: str, ref: datetime) -> datetime | None:
    """The datetime a task is set for: ISO 8601 or «04.03.2025 11:00» / «25.11 13:00»;
    naive → `ref`'s zone; a date without a time → 18:00 that day."""
    text = text.strip().rstrip(".")
    iso = _ISO.search(text)
    due = None
    if iso:
        try:
            due = datetime.fromisoformat(iso.group(0).replace("Z", "+00:00"))
        except ValueError:
            due = None
    if due is None:
        m = _DOTTED.search(text)
        if not m:
            clock = _CLOCK_ONLY.search(text)
            if not clock:
                return None
            due = ref.replace(hour=int(clock["H"]), minute=int(clock["M"]), second=0, microsecond=0)
            return due if due >= ref else due + timedelta(days=1)
        year = int(m["y"]) if m["y"] else ref.year
        year += 2000 if year < 100 else 0
        try:
            due = datetime(year, int(m["m"]), int(m["d"]), int(m["H"] or 18), int(m["M"] or 0))
        except ValueError:
            return None
    return due if due.tzinfo else due.replace(tzinfo=ref.tzinfo)


def _rx(*alternatives: str) -> re.Pattern[str]:
    # Texts are matched lower-cased with «ё» folded to «е»; so are the patterns.
    return re.compile("|".join(alternatives).replace("ё", "е"), re.IGNORECASE)


# --- the words that decide a kind ---------------------------------------------------------
_BOUNCED = _rx(
    r"bounce", r"недоставк", r"не ?доставлен", r"undeliver", r"delivery (status|fail)", r"failed to deliver",
    r"не удалось доставить", r"ошибк\w* доставки (письм|e-?mail|почт|\(домен)", r"удален\w* почтов",
    r"recipient address rejected", r"user unknown", r"mailbox (full|unavailable|not found)",
    r"адрес\w* не существ", r"почтов\w* ящик\w* (переполн|не существ)", r"\b5\.\d\.\d\b", r"mailer-daemon",
    r"превышен лимит", r"не принят\w* сервером", r"rejected by", r"smtp",
    r"(whatsapp|sms|смс|сообщени|telegram)\w*.*не доставлен", r"номер не зарегистр",
)
_MAIL = _rx(r"письм", r"e-?mail", r"почт", r"mail", r"вложени", r"attachment", r"whatsapp", r"sms", r"смс",
            r"сообщени", r"мессенджер", r"telegram", r"smtp")
_INCIDENT = _rx(
    r"инцидент", r"сбой", r"outage", r"ошибк\w* (авторизац|интеграц|вебхук|доставки вебхук|синхрониз)",
    r"webhook", r"вебхук", r"интеграци\w*.*(ошибк|не работ|отключ|недоступ|упал)", r"\b50[0-9]\b.*(ошибк|error)",
    r"(ошибк|error)\w*.*\b50[0-9]\b", r"sip-?транк", r"недоступен сервер", r"очеред\w* (доставки )?приостанов",
    r"восстановлен\w* при[её]м", r"integration", r"token.*expired", r"токен\w*.*ист[её]к",
)
_DUPLICATE = _rx(r"дубл", r"duplicat", r"совпадени", r"похож\w* контакт", r"объединен", r"merged")
_NOT_TARGET = _rx(
    r"спам", r"\bspam\b", r"не ?целев", r"некачествен", r"\bjunk\b", r"not a lead", r"соискател",
    r"ошибочн\w* (номер|звон|заявк)", r"wrong number", r"заблокирован", r"в корзину", r"blacklist",
    r"чёрн\w* спис", r"черн\w* спис", r"non-?target", r"not target",
)
_AUTO_REPLY = _rx(
    r"автоответ", r"auto-?reply", r"autorespon", r"out of office", r"чат-?бот", r"\bбот\b", r"\bbot\b",
    r"-бот", r"автоматическ\w* (sms|смс|сообщени|ответ|письм|уведомлен)", r"\bivr\b", r"голосов\w* меню",
    r"автоинформатор",
)
_SLA = _rx(
    r"\bsla\b", r"неотвечен\w* (диалог|чат|сообщ|обращ)", r"без ответа \d", r"чат без ответа",
    r"не назначен", r"без ответственн", r"unassigned", r"не взят\w* в работу", r"не обработан",
    r"no (reply|response) (for|in) \d", r"reassigned", r"переназначен", r"эскалац",
    r"user deactivated", r"пользовател\w* деактивир", r"routing rule",
)
_NO_ANSWER = _rx(
    r"не ответил", r"не отвеча", r"нет ответа", r"без ответа", r"no answer", r"not answered", r"unanswered",
    r"недозвон", r"не дозвон", r"недоступ", r"unreachable", r"не обслуживается", r"занят[оа]?\b", r"\bbusy\b",
    r"сбросил", r"сброшен", r"отклон[её]н", r"declined", r"rejected", r"voicemail", r"автоответчик",
    r"голосов\w* почт", r"\b0:00\b", r"\b00:00\b", r"абонент\w* (выключ|не)", r"switched off", r"no pick",
    r"message left", r"оставлен\w* сообщени", r"вне зоны",
)
_MISSED = _rx(
    r"пропущен", r"missed", r"неотвечен\w* входящ", r"входящ\w*.*(не отвечен|без ответа|сброшен|не принят)",
    r"abandoned", r"потерянн\w* (звонок|вызов)", r"не дождал\w*сь ответа",
)
_CALL = _rx(
    r"звон", r"вызов", r"\bcall\b", r"разговор", r"телефони", r"\bисходящ", r"\bвходящ\w*,",
    r"\bвходящ\w* \d", r"\bвходящ\w* (с|на|от)\b", r"\bвходящ\w*\s*[·:—-]", r"\bвходящ\w*$", r"\boutbound\b",
    r"\binbound\b(?! (e-?mail|whatsapp|message|chat|request|lead))", r"\bdial",
)
_INBOUND_DIRECTION = _rx(r"входящ", r"inbound", r"incoming", r"\(in\)", r"от клиента", r"клиент позвонил",
                          r"звонок в салон", r"звонок с ")
_DURATION = _rx(r"\d+\s*(мин|min|с\b|сек|s\b|ч\b|h\b)", r"\d{1,2}:\d{2}", r"разговор")
_TASK = _rx(
    r"задач", r"\btask\b", r"\bдело\b", r"\bдела\b", r"напоминани", r"reminder", r"follow-?up task", r"to-?do",
    r"срок задачи",
)
_TASK_OVERDUE = _rx(
    r"просроч", r"overdue", r"не (выполнен|закрыт)\w* в срок", r"срок\w* (истек|истёк|наступил)", r"expired",
    r"missed deadline", r"past due", r"не выполнен", r"ист[её]к",
)
_TASK_DONE = _rx(r"выполнен", r"завершен", r"\bdone\b", r"completed", r"\bзакрыт", r"closed", r"сделано")
_TASK_AUTO_CLOSED = _rx(r"автоматическ", r"системой", r"роботом", r"automatically", r"by system",
                        r"сделка в статусе", r"перенесен", r"rescheduled", r"отменен", r"cancel", r"без звонка",
                        r"без результат", r"no activity", r"auto-?closed", r"без контакта")
_NO_NEXT_STEP = _rx(r"(задач|task|дел[оа]\b)\w*.{0,20}\bне (поставлен|создан|назначен)", r"no (follow-?up )?task",
                    r"без задачи", r"next step: none", r"нет следующего шага", r"задач\w* нет\b")
_CALL_FIRST = _rx(r"^(исходящ|входящ|звонок|вызов|outbound|inbound|call)")
_DEAL_SUBJECT = _rx(r"^(сделка|deal|opportunity|лид|lead|stage|этап|стадия|статус|status)")
_TASK_CREATED = _rx(
    r"создан", r"поставлен", r"назначен", r"запланир", r"\bcreated\b", r"\bscheduled\b", r"\bnew task\b",
    r"\bdue\b", r"\bсрок\b", r"\bна \d", r"\d{1,2}\.\d{1,2}", r"\bнаступ", r"без срока",
)
_MEETING_FAILED = _rx(r"не состоял", r"не пришел", r"не пришёл", r"не подключил", r"no-?show", r"отменен",
                      r"cancel", r"перенесен", r"не явил")
_MEETING = _rx(
    r"встреч", r"демонстрац", r"\bдемо\b", r"\bdemo\b", r"замер\b", r"замер ", r"презентац", r"консультаци\w* (проведен|состоял)",
    r"пробн\w* (урок|заняти)", r"пробное", r"консультаци", r"consult", r"визит", r"показ\b", r"показ ", r"просмотр", r"\bmeeting\b",
    r"video call", r"видеозвонок", r"видеовстреч", r"тест-?драйв", r"test drive", r"\bviewing\b", r"осмотр",
    r"выезд", r"дегустаци", r"экскурси", r"site visit",
)
_READ = _rx(r"доставлен", r"прочитан", r"просмотрен", r"delivered", r"\bread\b", r"opened", r"\bseen\b",
            r"открыт[оа]?\b", r"не открыт")
_SENT = _rx(
    r"отправлен", r"направлен", r"выслан", r"\bsent\b", r"отправка на", r"emailed", r"вложени", r"attached",
    r"\bshared\b", r"^исходящее письмо", r"^outgoing e-?mail", r"сформирован\w* и отправлен",
)
_MATERIAL = _rx(
    r"\bкп\b", r"коммерческ", r"сч[её]т", r"договор", r"документ", r"материал", r"смет", r"расч[её]т",
    r"подборк", r"программ", r"презентац", r"прайс", r"планировк", r"файл", r"\.(pdf|docx?|xlsx?|pptx?|zip)\b",
    r"\bpdf\b", r"proposal", r"quote", r"invoice", r"contract", r"\boffer\b", r"\bdeck\b", r"price list",
    r"каталог", r"\bnda\b", r"спецификац", r"оферт", r"ссылк\w* на оплату", r"payment link", r"кейс", r"case study",
    r"сравнени", r"comparison", r"report", r"отч[её]т", r"brochure", r"буклет", r"проект\b", r"макет", r"памятк",
    r"сертификат", r"лицензи", r"диплом", r"видео", r"фото", r"условия", r"тариф",
)
_INBOUND_REQUEST = _rx(
    r"заявк", r"\bлид\b(?!.*(закрыт|удал|распредел))", r"\blead\b (from|created|auto)", r"new lead", r"lead auto",
    r"форм[аы]\b", r"\bform\b", r"входящ\w* (письм|сообщени|e-?mail|обращени|чат|диалог)",
    r"inbound (e-?mail|whatsapp|message|chat|request|lead)", r"incoming (e-?mail|message|request)",
    r"новое (сообщение|обращение|письмо)", r"новый (диалог|чат)", r"new (chat|message|request|inquiry|enquiry)",
    r"чат на сайте", r"онлайн-?чат", r"обращение", r"письмо на ", r"inquiry", r"enquiry",
    r"chat started", r"диалог начат", r"сообщение из", r"сообщение от клиента", r"from the website",
    r"письмо получено", r"запись с сайта", r"онлайн-?запись",
)
_CLOSED = _rx(
    r"отказ", r"проигр", r"потерян", r"closed[- ]?lost", r"\blost\b", r"не ?реализован", r"неуспешн",
    r"loss reason", r"причина", r"reason", r"закрыт\w* (автоматически|роботом|пакетно|менеджером)",
    r"сделка закрыта", r"лид закрыт", r"закрыта:", r"закрыто:", r"неактуальн", r"\bclosed\b", r"автозакрыт",
    r"archived", r"архив", r"закрыт\w* по неактивности",
)
_STAGE = _rx(r"этап", r"стади", r"\bstage\b", r"воронк", r"перемещен", r"переведен", r"→", r"->", r"статус")
_WON = _rx(r"успешно реализован", r"\bwon\b", r"оплачен", r"сделка выиграна", r"closed[- ]?won")
_CREATED = _rx(r"сделка создана", r"deal created", r"создана сделка", r"сделка #?\S+ создана",
               r"создан\w* (сделка|лид)", r"lead created")


def _title(text: str) -> str:
    m = _QUOTED.search(text)
    return m.group("title").strip() if m else text


def _task_event(low: str, text: str, ts: datetime) -> tuple[EventKind, str, datetime | None] | None:
    title = _title(text)
    if _TASK_OVERDUE.search(low):
        return EventKind.TASK_OVERDUE, title, None
    if re.search(r"недозвон|не дозвон|нет ответа", low):
        return EventKind.OUTBOUND_NO_ANSWER, title, None
    if _TASK_DONE.search(low) and not re.search(r"создан|created", low):
        if _TASK_AUTO_CLOSED.search(low):
            return None  # closed by a robot or moved: nothing was done
        return EventKind.TASK_DONE, title, None
    if re.search(r"перенесен|rescheduled|отменен|cancel", low):
        return None
    if _TASK_CREATED.search(low):
        rest = text[text.find(title) + len(title):] if title in text else text
        return EventKind.TASK_CREATED, title, parse_due(rest, ts)
    return None


def _classify(text: str, ts: datetime) -> tuple[EventKind, str, datetime | None]:
    low = text.lower().replace("ё", "е")
    if _BOUNCED.search(low) and (_MAIL.search(low) or "недоставк" in low or "bounce" in low):
        return EventKind.BOUNCED, text, None
    if _INCIDENT.search(low) and not _CALL_FIRST.search(low):
        return EventKind.INCIDENT, text, None
    if _NOT_TARGET.search(low):
        return EventKind.CLOSED_NOT_TARGET, text, None
    if _DUPLICATE.search(low):
        return EventKind.DUPLICATE, text, None
    if _AUTO_REPLY.search(low):
        return EventKind.AUTO_REPLY, text, None
    if _NO_NEXT_STEP.search(low):
        return EventKind.NO_NEXT_STEP, text, None
    if _CLOSED.search(low) and _DEAL_SUBJECT.search(low):
        return EventKind.CLOSED_LOST, text, None
    if re.match(r"(этап|стади|stage|status|статус)", low) and not _TASK.search(low):
        m = re.search(r":\s*(?P<detail>.*)$", text)
        return EventKind.STAGE_CHANGED, (m["detail"] if m else text), None
    if re.search(r"напоминани|reminder", low) and _SENT.search(low):
        return EventKind.REMINDER_SENT, text, None
    if re.search(r"^(демонстрац|встреч|видеовстреч|презентац|demo|meeting)", low) and re.search(r"проведен|состоял|held", low):
        return EventKind.MEETING, text, None
    if _SLA.search(low) and not _TASK.search(low):
        return EventKind.SLA_BREACH, text, None
    if _TASK.search(low) and not re.search(r"^(sms|смс)-?напоминани|звонок-?напоминани|^напоминание за|"
                                           r"^(исходящ|входящ|звонок|вызов|outbound|inbound|call)", low):
        found = _task_event(low, text, ts)
        if found is not None:
            return found
        if _SLA.search(low):
            return EventKind.SLA_BREACH, text, None
        return EventKind.OTHER, text, None
    if _MISSED.search(low) and (_CALL.search(low) or re.search(r"входящ|inbound", low)):
        if re.search(r"исходящ|outbound|outgoing", low):
            return EventKind.OUTBOUND_NO_ANSWER, text, None
        return EventKind.MISSED_CALL, text, None
    if _CALL.search(low) and not re.search(r"^(sms|смс|whatsapp|e-?mail|письм)", low):
        if re.search(r"звонок-?напоминани", low) and not _NO_ANSWER.search(low):
            return EventKind.OUTBOUND_CALL, text, None
        if _NO_ANSWER.search(low):
            return EventKind.OUTBOUND_NO_ANSWER, text, None
        if _INBOUND_DIRECTION.search(low) and not re.search(r"исходящ|outbound|outgoing", low):
            return EventKind.INBOUND_CALL, text, None
        if re.search(r"исходящ|outbound|outgoing|звонок менеджер|перезвон", low) or _DURATION.search(low):
            return EventKind.OUTBOUND_CALL, text, None
        if re.match(r"^звонок\b", low):
            return EventKind.OUTBOUND_CALL, text, None
    if _MEETING_FAILED.search(low) and _MEETING.search(low):
        return EventKind.OTHER, text, None
    if _SENT.search(low) and _MATERIAL.search(low) and not re.search(r"^входящ|^inbound|^incoming", low):
        return EventKind.SENT, _sent_detail(text), None
    if _MEETING.search(low) and not re.search(r"назначен|запланир|scheduled|booked|подтвержден", low) and (re.search(r"проведен|состоял|выполнен|заверш|held|completed|done|итог|logged", low)
                                 or _DURATION.search(low)):
        return EventKind.MEETING, text, None
    if _READ.search(low):
        return EventKind.MESSAGE_READ, text, None
    if _SENT.search(low) and not re.search(r"^входящ|^inbound|^incoming", low):
        return EventKind.REMINDER_SENT, text, None
    if _INBOUND_REQUEST.search(low) and not _CLOSED.search(low):
        return EventKind.INBOUND_REQUEST, text, None
    if re.search(r"^(sms|смс|whatsapp|e-?mail|письмо|telegram)\b.*[«\"“]", low):
        return EventKind.REMINDER_SENT, text, None
    if _WON.search(low):
        return EventKind.WON, text, None
    if _CLOSED.search(low):
        return EventKind.CLOSED_LOST, text, None
    if _CREATED.search(low) and not _INBOUND_REQUEST.search(low):
        return EventKind.DEAL_CREATED, text, None
    if _INBOUND_REQUEST.search(low):
        return EventKind.INBOUND_REQUEST, text, None
    if _CREATED.search(low):
        return EventKind.DEAL_CREATED, text, None
    if _STAGE.search(low):
        m = re.search(r":\s*(?P<detail>.*)$", text)
        return EventKind.STAGE_CHANGED, (m["detail"] if m else text), None
    return EventKind.OTHER, text, None


def _sent_detail(text: str) -> str:
    m = re.search(r"(?:отправлен\w*|направлен\w*|выслан\w*|sent)\s*(?:материалы)?\s*:\s*(?P<d>.+)$", text,
                  re.IGNORECASE)
    return m["d"].strip() if m else text


def parse_event(message: Message) -> SystemEvent:
    text = " ".join(message.text.split())
    kind, detail, due = _classify(text, message.ts)
    return SystemEvent(kind, message.ts, detail.strip(), due)

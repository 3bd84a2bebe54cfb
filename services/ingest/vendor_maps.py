"""Vendor ids -> the names the boards show, from LEAKWATCH_INGEST_MAPPING over defaults.

    {"amocrm":   {"pipelines": {"2116": "Основная"}, "users": {"938348": "Анна Смирнова"},
                  "statuses": {"10216994": "Переговоры"}, "loss_reasons": {"7656397": "Дорого"}},
     "bitrix24": {"categories": {"1": "b2b"}, "users": {"17": "Олег Петров"},
                  "stages": {"C1:PREPARATION": "КП отправлено"}, "outcomes": {"C1:JUNK": "spam"}},
     "telephony": {"phones": {"+7 916 123-45-67": "amocrm:demo:31926520"}, "managers": {"101": "Анна Смирнова"}}}

`amocrm.loss_reason_names` maps the names of the account's loss reasons (what
`GET /api/v4/leads/{id}?with=loss_reason` returns) to the seven reasons or `spam`; the
defaults below cover the reasons' own names and common wordings, matched case-insensitively.

An id without a name keeps its vendor prefix (`amocrm:938348`), so a missing mapping shows
on the board instead of silently merging managers. Pure apart from reading the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.ingest.phones import PhoneHasher, phone_key

from schemas.labels import Reason

# amoCRM's system statuses, the same ids in every account and pipeline.
AMO_WON, AMO_LOST = "142", "143"
# What a loss reason or a stage may mean besides a stated refusal reason.
NOT_TARGET = {"spam"}  # a duplicate needs the id it duplicates, which amoCRM does not send
BITRIX_OUTCOMES = {"won", "lost", "spam"}

DEFAULTS: dict[str, dict[str, dict[str, str]]] = {
    "amocrm": {
        "pipelines": {}, "users": {}, "loss_reasons": {},
        "loss_reason_names": {
            **{r.value.lower(): r.value for r in Reason},
            "высокая цена": "Дорого", "нет бюджета": "Дорого", "не устроила цена": "Дорого",
            "купили у конкурентов": "Выбрал конкурента", "выбрали конкурента": "Выбрал конкурента",
            "ушли к конкурентам": "Выбрал конкурента",
            "не устроили условия": "Не подошли условия", "не подошли сроки": "Не подошли условия",
            "нет доверия": "Нет доверия", "не доверяет": "Нет доверия",
            "не видит ценности": "Не понял ценность", "не нужно": "Не понял ценность",
            "долго не связывались": "Поздно связались", "поздно перезвонили": "Поздно связались",
            "не выходит на связь": "Клиент пропал", "не отвечает": "Клиент пропал", "пропал": "Клиент пропал",
            "спам": "spam", "ошибочная заявка": "spam",
        },
        "statuses": {AMO_WON: "Успешно реализовано", AMO_LOST: "Закрыто и не реализовано"},
    },
    "bitrix24": {
        "categories": {}, "users": {}, "outcomes": {},
        # Bitrix24's built-in stage ids; a funnel's own stages come as `C<category>:<id>`.
        "stages": {"NEW": "Новая", "PREPARATION": "Подготовка документов",
                   "PREPAYMENT_INVOICE": "Счёт на предоплату", "EXECUTING": "В работе",
                   "FINAL_INVOICE": "Финальный счёт", "WON": "Сделка успешна",
                   "LOSE": "Сделка провалена", "APOLOGY": "Анализ причины провала"},
    },
    "telephony": {"phones": {}, "managers": {}},
}


@dataclass(frozen=True)
class Names:
    names: dict[str, str]
    prefix: str
    zero_is_none: bool = False  # amoCRM and Bitrix24 send user 0 for "nobody"

    def __call__(self, vendor_id: object) -> str | None:
        key = None if vendor_id is None else str(vendor_id).strip()
        if not key or (self.zero_is_none and key == "0"):
            return None
        return self.names.get(key, f"{self.prefix}:{key}")


@dataclass(frozen=True)
class VendorMaps:
    raw: dict[str, dict[str, dict[str, str]]]

    @property
    def amo_pipeline(self) -> Names:
        return Names(self.raw["amocrm"]["pipelines"], "amocrm")

    @property
    def amo_status(self) -> Names:
        return Names(self.raw["amocrm"]["statuses"], "amocrm")

    @property
    def amo_user(self) -> Names:
        return Names(self.raw["amocrm"]["users"], "amocrm-user", zero_is_none=True)

    def amo_loss_reason(self, reason_id: str | None) -> str | None:
        return self.raw["amocrm"]["loss_reasons"].get(reason_id) if reason_id else None

    def amo_loss_reason_name(self, name: str | None) -> str | None:
        return self.raw["amocrm"]["loss_reason_names"].get(name.strip().lower()) if name else None

    @property
    def bitrix_category(self) -> Names:
        return Names(self.raw["bitrix24"]["categories"], "bitrix24")

    @property
    def bitrix_user(self) -> Names:
        return Names(self.raw["bitrix24"]["users"], "bitrix24-user", zero_is_none=True)

    def bitrix_stage(self, stage_id: str) -> str:
        stages = self.raw["bitrix24"]["stages"]
        # `C1:LOSE` falls back to the built-in `LOSE` name; unknown ids stay visible.
        return stages.get(stage_id) or stages.get(stage_id.rpartition(":")[2]) or f"bitrix24:{stage_id}"

    def bitrix_outcome(self, stage_id: str) -> str | None:
        return self.raw["bitrix24"]["outcomes"].get(stage_id)

    def deals_by_phone_hash(self, hasher: PhoneHasher) -> dict[str, str]:
        """telephony.phones keyed by the phone's hash, as calls carry it."""
        return {hasher(phone): deal for phone, deal in self.raw["telephony"]["phones"].items()}

    @property
    def call_manager(self) -> Names:
        return Names(self.raw["telephony"]["managers"], "telephony-user")


def load_maps(configured: dict[str, dict[str, dict[str, str]]]) -> VendorMaps:
    """Defaults overlaid with the setting; a wrong section or value raises ValueError."""
    merged = {section: {name: dict(m) for name, m in maps.items()} for section, maps in DEFAULTS.items()}
    for section, maps in configured.items():
        if section not in merged:
            raise ValueError(f"unknown section {section!r} (expected {', '.join(DEFAULTS)})")
        for name, mapping in maps.items():
            if name not in merged[section]:
                raise ValueError(f"unknown map {section}.{name} (expected {', '.join(merged[section])})")
            merged[section][name].update({str(k).strip(): str(v).strip() for k, v in mapping.items()})
    allowed_reasons = {r.value for r in Reason} | NOT_TARGET
    merged["amocrm"]["loss_reason_names"] = {k.lower(): v for k, v in merged["amocrm"]["loss_reason_names"].items()}
    for table in ("loss_reasons", "loss_reason_names"):
        for reason_id, meaning in merged["amocrm"][table].items():
            if meaning not in allowed_reasons:
                raise ValueError(f"amocrm.{table}[{reason_id}]: {meaning!r} is neither a reason "
                                 f"({', '.join(r.value for r in Reason)}) nor spam")
    for stage, outcome in merged["bitrix24"]["outcomes"].items():
        if outcome not in BITRIX_OUTCOMES:
            raise ValueError(f"bitrix24.outcomes[{stage}]: {outcome!r} is not one of won, lost, spam")
    phones = {}
    for phone, deal_id in merged["telephony"]["phones"].items():
        if len(phone_key(phone)) < 5:
            raise ValueError(f"telephony.phones: {phone!r} is not a phone number")
        phones[phone_key(phone)] = deal_id
    merged["telephony"]["phones"] = phones
    return VendorMaps(merged)

"""The label sets of a refusal. Their values are the public contract of
`refusals.classified`: downstream services match on these exact strings."""

from enum import StrEnum


class Reason(StrEnum):
    """The root cause the client would state (one per refusal)."""

    EXPENSIVE = "Дорого"
    COMPETITOR = "Выбрал конкурента"
    NO_TRUST = "Нет доверия"
    TERMS = "Не подошли условия"
    NO_VALUE = "Не понял ценность"
    LATE_CONTACT = "Поздно связались"
    GHOSTED = "Клиент пропал"


class Kind(StrEnum):
    """Whether the client could have been kept."""

    SALVAGEABLE = "salvageable"  # lost through the manager's error or weak handling
    REAL = "real"  # objective, hard to influence


class Leak(StrEnum):
    """The controllable loss behind a salvageable refusal (card 2)."""

    NOT_CLOSED = "Не дожали заинтересованных"
    OBJECTION = "Не отработали возражение"
    NO_MATERIALS = "Не отправили материалы после звонка"
    LATE_CALLBACK = "Не связались вовремя"

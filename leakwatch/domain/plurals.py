"""Russian plurals for counts people read: «1 случай, 2 случая, 5 случаев». Pure."""

from __future__ import annotations


def plural_ru(n: int, one: str, few: str, many: str) -> str:
    """The form of a noun after the number n: one (1, 21, 101), few (2–4, 22–24), many (the rest,
    and 11–14)."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count_ru(n: int, one: str, few: str, many: str) -> str:
    """«5 случаев»: the number and its noun."""
    return f"{n} {plural_ru(n, one, few, many)}"


def cases_ru(n: int) -> str:
    return count_ru(n, "случай", "случая", "случаев")


def days_ru(n: int) -> str:
    """«за предыдущие 28 дней», «21 день», «3 дня»."""
    return count_ru(n, "день", "дня", "дней")


def of_ru(part: int, one: str, many: str) -> str:
    """The predicate after «part из total …»: «1 из 65 потерянных клиентов был горячим», but
    «21 (31, 2, 5) из 65 … были горячими». Only exactly one takes the singular: after «из» a
    reader takes 21 or 31 as several clients, and «31 из 65 … был» reads as a mistake."""
    return one if abs(int(part)) == 1 else many

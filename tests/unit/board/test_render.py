from datetime import datetime, timezone

from rich.console import Console

from leakwatch.board.render import board
from leakwatch.cards.snapshot import Card1, Card2, Cards, LeakRow, ReasonRow
from leakwatch.domain.money import format_rub

SPEC = Cards(
    time_from=datetime(2026, 11, 19, tzinfo=timezone.utc), time_to=datetime(2026, 11, 19, 23, 59, tzinfo=timezone.utc),
    pipeline=None, manager=None,
    card1=Card1(total=44, salvageable=18, real=26, salvageable_pct=41, potential_lost_rub=720000,
                average_check_rub=40000, reason_mismatches=3, confirmed=44,
                by_reason=[ReasonRow(reason="Дорого", salvageable=5, real=7)]),
    card2=Card2(leak_rub=1248700, cases=47, hot_cases=30, baseline_daily_rub=760000, above_average_pct=64,
                by_leak=[LeakRow(leak="Не дожали заинтересованных", leak_rub=612000, cases=18, hot_cases=18, leak_pct=49),
                         LeakRow(leak="Не отработали возражение", leak_rub=298700, cases=12, hot_cases=6, leak_pct=24)],
                main_leak="Не дожали заинтересованных", main_stage="Выставлен счёт"),
)


def text_of(renderable, width=140) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_board_shows_both_cards_numbers():
    out = text_of(board(SPEC))
    for expected in ("Отказы целевых лидов", "Можно было спасти", "18  (41%)", "₽720 000", "Всего целевых отказов",
                     "Потенциально потерянная выручка", "Утечка дня", "₽1 248 700", "+64% к среднему дню", "47 случаев",
                     "₽612 000 · 18 · 49%", "на этапе «Выставлен счёт»", "30 из 47", "5 / 7"):
        assert expected in out, expected
    # Reasons and leaks with no cases are still listed, so the board's shape never jumps.
    assert "Поздно связались" in out and "Не связались вовремя" in out


def test_count_switch_changes_the_bars_not_the_numbers():
    by_sum, by_count = text_of(board(SPEC, "sum")), text_of(board(SPEC, "count"))
    assert "Сумма / Количество: Сумма" in by_sum and "Сумма / Количество: Количество" in by_count
    assert "₽1 248 700" in by_count


def test_rub_groups_thousands():
    assert format_rub(1248700) == "₽1 248 700" and format_rub(0) == "₽0"


def test_counts_take_the_russian_plural():
    one = SPEC.model_copy(update={"card2": SPEC.card2.model_copy(update={"cases": 1, "hot_cases": 1})})
    few = SPEC.model_copy(update={"card2": SPEC.card2.model_copy(update={"cases": 22, "hot_cases": 2})})
    assert "1 случай" in text_of(board(one)) and "1 из 1 потерянного клиента был горячим" in text_of(board(one))
    assert "22 случая" in text_of(board(few)) and "2 из 22 потерянных клиентов были горячими" in text_of(board(few))
    qa = SPEC.model_copy(update={"card2": SPEC.card2.model_copy(update={"cases": 65, "hot_cases": 31})})
    assert "31 из 65 потерянных клиентов были горячими" in text_of(board(qa))
    ones = SPEC.model_copy(update={"card2": SPEC.card2.model_copy(update={"cases": 21, "hot_cases": 21})})
    assert "21 из 21 потерянного клиента были горячими" in text_of(board(ones))

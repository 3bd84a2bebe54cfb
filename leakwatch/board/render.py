"""Draw the two cards as rich renderables. Pure: takes a `Cards` snapshot, returns text."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from leakwatch.cards.snapshot import Cards
from schemas.labels import Leak, Reason
from leakwatch.domain.money import format_rub as rub
from leakwatch.domain.plurals import cases_ru, count_ru, of_ru

BAR_WIDTH = 36
BOARD_WIDTH = 110  # columns the cards need without cutting a label


def _bar(parts: list[tuple[int, str, str]], total: int, width: int = BAR_WIDTH) -> Text:
    """A horizontal bar of `width` cells split in proportion to `parts` (value, char, style)."""
    text = Text()
    if total <= 0:
        return text.append("·" * width, style="dim")
    used = 0
    for i, (value, char, style) in enumerate(parts):
        cells = width - used if i == len(parts) - 1 else round(width * value / total)
        text.append(char * max(cells, 0), style=style)
        used += cells
    return text


def _stat(title: str, value: str, style: str = "bold") -> Text:
    return Text.assemble((title + "\n", "dim"), (value, style))


def card1(cards: Cards) -> Panel:
    c = cards.card1
    stats = Table.grid(expand=True, padding=(0, 2))
    for _ in range(3):
        stats.add_column(justify="left")
    stats.add_row(
        _stat("Можно было спасти", f"{c.salvageable}  ({c.salvageable_pct}%)", "bold red"),
        _stat("Потенциально потерянная выручка", rub(c.potential_lost_rub), "bold yellow"),
        _stat("Всего целевых отказов", str(c.total)),
    )
    by_reason = {r.reason: r for r in c.by_reason}
    bars = Table.grid(padding=(0, 1))
    bars.add_column(min_width=20)
    bars.add_column()
    bars.add_column(justify="right")
    widest = max((r.salvageable + r.real for r in c.by_reason), default=0)
    for reason in Reason:
        row = by_reason.get(reason.value)
        salv, real = (row.salvageable, row.real) if row else (0, 0)
        width = round(BAR_WIDTH * (salv + real) / widest) if widest else 0
        bars.add_row(reason.value, _bar([(salv, "█", "red"), (real, "▒", "grey50")], salv + real, width),
                     f"{salv} / {real}")
    share = Text.assemble(("спасаемые ", "red"), _bar([(c.salvageable, "█", "red"), (c.real, "▒", "grey50")], c.total),
                          (" реальные", "grey50"), f"   {c.salvageable_pct}% / {100 - c.salvageable_pct if c.total else 0}%")
    legend = Text.assemble(("█ спасаемые", "red"), "  ", ("▒ реальные", "grey50"), ("   (спасаемые / реальные)", "dim"))
    return Panel(Group(stats, Text(""), bars, legend, Text(""), share),
                 title="Отказы целевых лидов", border_style="cyan")


def card2(cards: Cards, metric: str = "sum") -> Panel:
    c = cards.card2
    above = "—" if c.above_average_pct is None else f"{c.above_average_pct:+d}% к среднему дню"
    stats = Table.grid(expand=True, padding=(0, 2))
    stats.add_column()
    stats.add_column()
    stats.add_row(
        _stat("Утечка дня", f"{rub(c.leak_rub)}   {above}   {cases_ru(c.cases)}", "bold red"),
        _stat("Главная причина", c.main_leak or "—", "bold"),
    )
    by_leak = {r.leak: r for r in c.by_leak}
    bars = Table.grid(padding=(0, 1))
    bars.add_column(min_width=36)
    bars.add_column()
    bars.add_column(justify="right")
    values = {leak: (by_leak[leak.value].leak_rub if metric == "sum" else by_leak[leak.value].cases)
              if leak.value in by_leak else 0 for leak in Leak}
    top = max(values.values(), default=0)
    for leak in Leak:
        row = by_leak.get(leak.value)
        width = round(BAR_WIDTH * values[leak] / top) if top else 0
        label = f"{rub(row.leak_rub)} · {row.cases} · {row.leak_pct}%" if row else "—"
        bars.add_row(leak.value, Text("█" * width, style="yellow"), label)
    stage = f"на этапе «{c.main_stage}»" if c.main_stage else "—"
    lost = count_ru(c.cases, "потерянного клиента", "потерянных клиентов", "потерянных клиентов")
    were_hot = of_ru(c.hot_cases, "был горячим", "были горячими")
    conclusion = Text(f"Главная утечка {stage}; {c.hot_cases} из {lost} {were_hot}.")
    switch = Text(f"Сумма / Количество: {'Сумма' if metric == 'sum' else 'Количество'}", style="dim")
    return Panel(Group(stats, Text(""), switch, bars, Text(""), conclusion),
                 title="Потенциально потерянная выручка", border_style="magenta")


def board(cards: Cards, metric: str = "sum") -> Group:
    period = f"{cards.time_from:%d.%m.%Y %H:%M} — {cards.time_to:%d.%m.%Y %H:%M}"
    filters = ", ".join(f for f in (cards.pipeline, cards.manager) if f) or "все воронки и менеджеры"
    header = Text.assemble(("Где теряются деньги", "bold"), f"   {period}   ({filters})")
    return Group(header, card1(cards), card2(cards, metric))

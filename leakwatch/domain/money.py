"""Money per refusal. Pure."""

from __future__ import annotations


def case_money(amount_rub: int | None, avg_check_rub: int) -> int:
    """A case's money is the deal's amount when the CRM has it, else the average check."""
    return amount_rub if amount_rub else avg_check_rub


def average_check(pipeline: str, configured: dict[str, int], won_mean: float | None,
                  default: int) -> int:
    """The pipeline's setting wins; then the mean of its won deals; then the global default."""
    if pipeline in configured:
        return configured[pipeline]
    if won_mean and won_mean > 0:
        return int(round(won_mean))
    return default


def format_rub(value: float) -> str:
    """₽1 248 700: roubles as the boards and alerts print them (thin groups, no kopecks)."""
    return "₽" + f"{int(round(value)):,}".replace(",", " ")

"""`leakwatch eval` output: the metrics table and the reason confusion table (rich)."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from schemas.conversation import EngineInfo
from leakwatch.classifier.evaluation import NONE, Report, confusion_rows

# Product targets on writers the engine never learned from (issue #10).
TARGETS = {"target": 0.97, "reason": 0.80, "kind_macro_f1": 0.88, "leak_salvageable": 0.75, "hot": 0.90}


def _verdict(name: str, value: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return ""
    return f"≥ {target:.2f} " + ("[green]ok[/]" if value >= target else "[red]below[/]")


def metrics_table(report: Report) -> Table:
    table = Table(title=f"{report.items} conversations")
    for column in ("metric", "value", "correct / total", "target"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, metric in report.accuracy.items():
        table.add_row(f"{name} accuracy", f"{metric.value:.3f}", f"{metric.correct} / {metric.total}",
                      _verdict(name, metric.value))
    table.add_row("kind macro-F1", f"{report.kind_macro_f1:.3f}", "", _verdict("kind_macro_f1", report.kind_macro_f1))
    for cls, f1 in report.kind_f1.items():
        table.add_row(f"  F1 {cls}", f"{f1:.3f}", "", "")
    return table


def confusion_table(report: Report) -> Table:
    columns, rows = confusion_rows(report)
    table = Table(title="reason: gold (rows) × predicted (columns)")
    table.add_column("gold \\ predicted")
    for i, _ in enumerate(columns):
        table.add_column(str(i + 1) if i < len(columns) - 1 else "—", justify="right")
    for i, (label, row) in enumerate(zip(columns, rows)):
        table.add_row(f"{i + 1}. {label}", *(str(n) if n else "·" for n in row))
    return table


def leak_table(report: Report) -> Table:
    from schemas.labels import Leak

    labels = [str(x) for x in Leak] + [NONE]
    table = Table(title="leak: gold (rows) × predicted (columns), gold-target items; — = none")
    table.add_column("gold \\ predicted")
    for i, _ in enumerate(labels):
        table.add_column(str(i + 1) if i < len(labels) - 1 else "—", justify="right")
    for i, g in enumerate(labels):
        row = [report.leak_confusion.get((g, p), 0) for p in labels]
        table.add_row(f"{i + 1}. {g}" if g != NONE else "—", *(str(n) if n else "·" for n in row))
    return table


def print_report(report: Report, engine: EngineInfo, *, fallbacks: int = 0, console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 110)
    console.print(f"engine: {engine.name} {engine.version}" + (f" · {fallbacks} fallback answers" if fallbacks else ""))
    console.print(metrics_table(report))
    console.print(confusion_table(report))
    console.print(leak_table(report))

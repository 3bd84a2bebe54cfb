"""`leakwatch eval` output (rich): the metrics table, the reason, kind, leak and hot
confusion tables, the reliability of the confidence and the review split."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from schemas.conversation import EngineInfo
from leakwatch.classifier.calibration import ReliabilityRow
from leakwatch.classifier.evaluation import NONE, Report, ReviewSplit, confusion_rows

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


def kind_table(report: Report) -> Table:
    from schemas.labels import Kind

    labels = [str(k) for k in Kind] + [NONE]
    table = Table(title="kind: gold (rows) × predicted (columns), gold-target items; — = not target")
    table.add_column("gold \\ predicted")
    for label in labels:
        table.add_column(label, justify="right")
    for g in labels[:-1]:
        table.add_row(g, *(str(report.kind_confusion.get((g, p), 0) or "·") for p in labels))
    return table


def hot_table(report: Report) -> Table:
    table = Table(title="hot: gold (rows) × predicted (columns), all items")
    table.add_column("gold \\ predicted")
    for label in ("hot", "cold"):
        table.add_column(label, justify="right")
    for g, name in ((True, "hot"), (False, "cold")):
        table.add_row(name, *(str(report.hot_confusion.get((g, p), 0) or "·") for p in (True, False)))
    return table


def reliability_table(rows: list[ReliabilityRow], ece: float) -> Table:
    """Per confidence bin: how many verdicts, and the share a QA lead would sign as is."""
    table = Table(title=f"reliability of the confidence (whole verdict right: target, reason, kind, leak) · ECE {ece:.3f}")
    for column in ("confidence", "count", "mean confidence", "accuracy"):
        table.add_column(column, justify="left" if column == "confidence" else "right")
    for r in rows:
        cells = (f"{r.predicted:.2f}", f"{r.observed:.2f}") if r.items else ("·", "·")
        table.add_row(f"{r.low:.1f}–{r.high:.1f}", str(r.items), *cells)
    return table


def review_table(split: ReviewSplit) -> Table:
    """The split at the configured review threshold: the confident part vs the reviewed part."""
    table = Table(title=f"review below confidence {split.threshold:.2f} (LEAKWATCH_REVIEW_BELOW_CONFIDENCE)")
    for column in ("part", "items", "verdict accuracy", "reason", "kind macro-F1", "hot"):
        table.add_column(column, justify="left" if column == "part" else "right")
    for name, report, signed in (("confident (kept)", split.confident, split.confident_correct),
                                 ("reviewed (flagged)", split.reviewed, split.reviewed_correct)):
        if report is None or not report.items:
            table.add_row(name, "0", "·", "·", "·", "·")
            continue
        table.add_row(name, str(report.items), f"{signed.value:.2f} ({signed.correct} / {signed.total})",
                      _value(report.accuracy["reason"].value), _value(report.kind_macro_f1),
                      _value(report.accuracy["hot"].value))
    return table


def _value(v: float) -> str:
    return "·" if v != v else f"{v:.2f}"  # NaN: no item of that kind in the part


def print_report(report: Report, engine: EngineInfo, *, fallbacks: int = 0, console: Console | None = None,
                 reliability: tuple[list[ReliabilityRow], float] | None = None,
                 review: ReviewSplit | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 110)
    console.print(f"engine: {engine.name} {engine.version}" + (f" · {fallbacks} fallback answers" if fallbacks else ""))
    console.print(metrics_table(report))
    console.print(confusion_table(report))
    console.print(kind_table(report))
    console.print(leak_table(report))
    console.print(hot_table(report))
    if reliability is not None:
        console.print(reliability_table(*reliability))
    if review is not None:
        console.print(review_table(review))
        console.print(f"{review.flagged} of {review.total} sent to review ({review.share_flagged:.0%}): "
                      "target verdicts below the threshold, as the product flags them")

"""`leakwatch eval` prints the reliability of the confidence and the review split at the
configured LEAKWATCH_REVIEW_BELOW_CONFIDENCE. A stub engine returns fixed verdicts, so every
number below is worked out by hand from the six rows of `CASES`."""

import json

import pytest

from leakwatch.cli import main
from leakwatch.classifier import cli
from leakwatch.classifier.contract import RefusalClassifier
from schemas.conversation import ClassificationResult

from tests.unit.classifier.builders import conversation

REAL_PRICE = {"target": True, "reason": "Дорого", "kind": "real", "hot": False}
LATE = {"target": True, "reason": "Клиент пропал", "kind": "salvageable", "leak": "Не связались вовремя",
        "hot": True}
UNHANDLED = {"target": True, "reason": "Дорого", "kind": "salvageable", "leak": "Не отработали возражение",
             "hot": False}
RIVAL = {"target": True, "reason": "Выбрал конкурента", "kind": "real", "hot": False}
SPAM = {"target": False, "hot": False}

# id: (gold, predicted, confidence). Verdict right (target, reason, kind, leak): 1, 2, 3, 5.
CASES = {
    "c1": (REAL_PRICE, REAL_PRICE, 0.96),  # right, 0.9–1.0, kept
    "c2": (RIVAL, RIVAL, 0.85),  # right, 0.8–0.9, kept
    "c3": (LATE, LATE, 0.55),  # right, 0.5–0.6, reviewed (a target verdict below 0.6)
    "c4": (REAL_PRICE, UNHANDLED, 0.40),  # wrong kind/leak, 0.0–0.5, reviewed
    "c5": (SPAM, SPAM, 0.30),  # right, 0.0–0.5, kept: a «not target» verdict is never flagged
    "c6": (SPAM, REAL_PRICE, 0.92),  # wrong target, 0.9–1.0, kept
}


class FixedEngine(RefusalClassifier):
    name, version = "fixed", "1"

    async def classify(self, items):
        return [ClassificationResult(**CASES[i.id][1], id=i.id, deal_id=i.deal_id, confidence=CASES[i.id][2],
                                     engine=self.info) for i in items]


@pytest.fixture(autouse=True)
def _fixed_engine(monkeypatch):
    monkeypatch.setattr(cli, "engine_from_settings", lambda settings: FixedEngine())
    monkeypatch.setenv("LEAKWATCH_REVIEW_BELOW_CONFIDENCE", "0.6")


def _row(out: str, first_cell: str) -> list[str]:
    """The cells of the table row whose first cell is `first_cell`."""
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("│┃").split("│")]
        if cells and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in:\n{out}")


def test_eval_prints_reliability_bins_and_the_review_split(tmp_path, capsys):
    path = tmp_path / "gold.jsonl"
    lines = []
    for i, (gold, _, _) in CASES.items():
        item = json.loads(conversation(("03 10:00", "client", "Добрый день"), id=i).model_dump_json())
        lines.append(json.dumps(item | {"gold": gold}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    assert main(["eval", str(path)]) == 0
    out = capsys.readouterr().out

    # bins: count, mean confidence, share of verdicts right
    assert _row(out, "0.0–0.5")[1:] == ["2", "0.35", "0.50"]  # c4 wrong, c5 right
    assert _row(out, "0.5–0.6")[1:] == ["1", "0.55", "1.00"]  # c3
    assert _row(out, "0.6–0.7")[1:] == ["0", "·", "·"]
    assert _row(out, "0.8–0.9")[1:] == ["1", "0.85", "1.00"]  # c2
    assert _row(out, "0.9–1.0")[1:] == ["2", "0.94", "0.50"]  # c1 right, c6 wrong
    # ECE = (2·|0.35−0.50| + 1·|0.55−1| + 1·|0.85−1| + 2·|0.94−0.50|) / 6 = 1.78 / 6
    assert "ECE 0.297" in out

    # review below 0.6: c3 and c4 (c5 is below too, but a «not target» verdict is not flagged)
    assert "2 of 6 sent to review (33%)" in out
    assert _row(out, "confident (kept)")[1:3] == ["4", "0.75 (3 / 4)"]  # c1, c2, c5 right; c6 wrong
    assert _row(out, "reviewed (flagged)")[1:3] == ["2", "0.50 (1 / 2)"]  # c3 right; c4 wrong

    # hot confusion: only c3 is hot, and predicted so; the other five are cold and predicted cold
    assert _row(out, "hot")[1:] == ["1", "·"]
    assert _row(out, "cold")[1:] == ["·", "5"]

"""One translation table: every label value and every word the board's templates use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leakwatch.cards.labels import TEXTS, translator
from leakwatch.web.app import cases_word
from schemas.labels import Kind, Leak, Reason

TEMPLATES = Path(__file__).resolve().parents[3] / "leakwatch" / "web" / "templates"


def test_every_label_value_has_both_languages():
    for value in [*Reason, *Kind, *Leak]:
        ru, en = TEXTS[value.value]
        assert ru and en and en.isascii()
    assert translator("ru")(Reason.EXPENSIVE.value) == "Дорого"
    assert translator("en")(Reason.EXPENSIVE.value) == "Too expensive"


def test_unknown_keys_are_themselves():
    assert translator("en")("Анна Смирнова") == "Анна Смирнова"
    assert translator("en")(None) == "—"


@pytest.mark.parametrize("path", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_templates_use_only_keys_of_the_table(path):
    keys = set(re.findall(r"""\bt\(\s*["']([a-z_0-9]+)["']\s*\)""", path.read_text(encoding="utf-8")))
    assert keys and keys <= TEXTS.keys(), keys - TEXTS.keys()


@pytest.mark.parametrize(("language", "n", "word"), [
    ("ru", 1, "случай"), ("ru", 21, "случай"), ("ru", 22, "случая"), ("ru", 18, "случаев"), ("ru", 11, "случаев"),
    ("en", 1, "case"), ("en", 18, "cases")])
def test_a_count_of_cases_takes_its_plural(language, n, word):
    assert cases_word(language)(n) == word


def test_no_template_puts_a_fixed_word_after_a_count():
    for path in TEMPLATES.glob("*.html"):
        assert 't("cases")' not in path.read_text(encoding="utf-8"), path.name  # «1 случаев»

"""Russian word forms reduced to lemmas, so rules match «пришлю», «прислали» and
«пришлёте» with one entry instead of a list of spellings."""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass

import pymorphy3

_WORD = re.compile(r"[0-9a-zа-яё]+(?:-[a-zа-яё]+)?", re.IGNORECASE)
_analyzer_lock = threading.Lock()
_analyzer_instance: pymorphy3.MorphAnalyzer | None = None


def _analyzer() -> pymorphy3.MorphAnalyzer:
    # Opening the dictionaries takes ~0.1 s: once per process, whichever thread asks first.
    global _analyzer_instance
    if _analyzer_instance is None:
        with _analyzer_lock:
            if _analyzer_instance is None:
                _analyzer_instance = pymorphy3.MorphAnalyzer()
    return _analyzer_instance


@dataclass(frozen=True, slots=True)
class Token:
    word: str  # lower case, ё kept as е
    lemma: str
    grammemes: frozenset[str]

    @property
    def first_person_future(self) -> bool:
        """«пришлю», «перезвоним»: how a manager commits to an action."""
        return {"1per", "futr"} <= self.grammemes

    @property
    def past(self) -> bool:
        return "past" in self.grammemes


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


@functools.lru_cache(maxsize=200_000)
def token(word: str) -> Token:
    folded = _fold(word)
    if not folded.isalpha():  # numbers, "a1": no dictionary entry worth a lookup
        return Token(folded, folded, frozenset())
    parse = _analyzer().parse(folded)[0]
    return Token(folded, _fold(parse.normal_form), frozenset(parse.tag.grammemes))


def tokens(text: str) -> tuple[Token, ...]:
    return tuple(token(w) for w in _WORD.findall(text))


def lemmas(text: str) -> tuple[str, ...]:
    return tuple(t.lemma for t in tokens(text))


# «не сможем подписать», «не готовы оформлять»: a negated modal negates the verb after it.
_MODALS = frozenset({"мочь", "смочь", "хотеть", "готовый", "стать", "собираться", "планировать", "быть",
                     "получиться", "can", "will", "could", "would", "be"})
# «t» is what is left of «can't», «don't», «won't» once the apostrophe splits the word.
_NEGATIONS = frozenset({"не", "not", "t", "cannot", "never"})


def _negated_before(lemma_seq: tuple[str, ...], start: int) -> bool:
    if start > 0 and lemma_seq[start - 1] in _NEGATIONS:
        return True
    return start > 1 and lemma_seq[start - 2] in _NEGATIONS and lemma_seq[start - 1] in _MODALS


class Phrase:
    """A lemma sequence found in order, allowing a few words in between
    («не получил» matches «так и не получили мы ваш»). A match right after «не» does not
    count unless the phrase itself starts with «не»: «не дорого» is not «дорого»; nor does one
    followed by «не» («брать не буду»)."""

    __slots__ = ("source", "_lemmas", "max_gap")

    def __init__(self, source: str, max_gap: int = 2) -> None:
        self.source = source
        self.max_gap = max_gap
        self._lemmas: tuple[str, ...] | None = None  # the analyzer loads on first use

    @property
    def lemmas(self) -> tuple[str, ...]:
        if self._lemmas is None:
            self._lemmas = lemmas(self.source)
        return self._lemmas

    def find(self, lemma_seq: tuple[str, ...]) -> int:
        """Index where the match starts, or -1."""
        want = self.lemmas
        if not want:
            return -1
        first, start = want[0], -1
        # `in` and `index` scan in C: most lines hold no phrase's first lemma at all, and
        # this runs for every line, lexicon and phrase (the reader's largest Python cost).
        if first not in lemma_seq:
            return -1
        while True:
            try:
                start = lemma_seq.index(first, start + 1)
            except ValueError:
                return -1
            if _negated_before(lemma_seq, start):
                continue
            pos, ok = start, True
            for nxt in want[1:]:
                window = lemma_seq[pos + 1 : pos + 2 + self.max_gap]
                if nxt not in window or "не" in window[: window.index(nxt)]:
                    ok = False  # absent, or negated in between («нам это не подходит»)
                    break
                pos = pos + 1 + window.index(nxt)
            # «брать не буду»: a verb negated right after it
            if ok and lemma_seq[pos + 1 : pos + 2] != ("не",):
                return start

    def __repr__(self) -> str:
        return f"Phrase({self.source!r})"


class Lexicon:
    """A named set of phrases; a text matches when any phrase does."""

    def __init__(self, *phrases: str, max_gap: int = 2) -> None:
        self.phrases = tuple(Phrase(p, max_gap) for p in phrases)
        self._by_first: dict[str, tuple[int, ...]] | None = None  # built on first use

    def _index(self) -> dict[str, tuple[int, ...]]:
        # First lemma -> positions of the phrases starting with it. A line is then checked
        # only against phrases whose first lemma it holds (one set intersection in C)
        # instead of every phrase: this ran for every line, lexicon and phrase and was the
        # reader's largest cost (22% of a classification, cProfile on the holdout deals).
        if self._by_first is None:
            index: dict[str, list[int]] = {}
            for i, p in enumerate(self.phrases):
                if p.lemmas:
                    index.setdefault(p.lemmas[0], []).append(i)
            self._by_first = {k: tuple(v) for k, v in index.items()}
        return self._by_first

    def _candidates(self, lemma_seq: tuple[str, ...]) -> list[int]:
        index = self._index()
        found = index.keys() & set(lemma_seq)
        if not found:
            return []
        if len(found) == 1:
            return list(index[next(iter(found))])
        return sorted(i for first in found for i in index[first])  # declared order: `match` is first-wins

    def matches(self, lemma_seq: tuple[str, ...]) -> bool:
        return any(self.phrases[i].find(lemma_seq) >= 0 for i in self._candidates(lemma_seq))

    def match(self, lemma_seq: tuple[str, ...]) -> Phrase | None:
        return next((self.phrases[i] for i in self._candidates(lemma_seq) if self.phrases[i].find(lemma_seq) >= 0), None)

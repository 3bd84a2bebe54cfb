from leakwatch.classifier.morphology import Lexicon, Phrase, lemmas, token


def test_word_forms_share_a_lemma():
    assert lemmas("Пришлю") == lemmas("прислали") == ("прислать",)
    assert lemmas("счёт") == lemmas("счета") == ("счет",)  # ё folded


def test_first_person_future_marks_a_commitment():
    assert token("перезвоню").first_person_future
    assert token("отправим").first_person_future
    assert not token("отправила").first_person_future and token("отправила").past


def test_phrase_allows_small_gaps_in_order():
    phrase = Phrase("не получить")
    assert phrase.find(lemmas("так и не получили мы программу")) >= 0
    assert phrase.find(lemmas("получили, не спорю")) == -1  # order matters
    assert Phrase("так и не", max_gap=0).find(lemmas("так мы и не")) == -1


def test_lexicon_reports_the_matching_phrase():
    lexicon = Lexicon("дорого", "не потянуть")
    assert lexicon.match(lemmas("Мы такое не потянем")).source == "не потянуть"
    assert lexicon.match(lemmas("Всё понятно")) is None


def test_negation_right_before_a_phrase_cancels_it():
    assert Phrase("дорого").find(lemmas("это не дорого")) == -1
    assert Phrase("брать").find(lemmas("раз не объяснили — не берём")) == -1
    assert Phrase("не получить").find(lemmas("я не получил")) >= 0


def test_negation_inside_a_gap_cancels_the_match():
    assert Phrase("нам подходить").find(lemmas("нам это не подходит")) == -1
    assert Phrase("нам подходить").find(lemmas("нам всё подходит")) >= 0


def test_a_negated_modal_negates_the_verb_after_it():
    assert Phrase("подписать договор").find(lemmas("Тогда мы не сможем подписать договор")) == -1
    assert Phrase("подписать договор").find(lemmas("Готовы подписать договор")) >= 0
    assert Phrase("оформлять").find(lemmas("мы не будем оформлять")) == -1


def test_english_contractions_negate():
    assert Phrase("send the invoice").find(lemmas("please don't send the invoice yet")) == -1
    assert Phrase("send the invoice").find(lemmas("please send the invoice")) >= 0


def _reference_find(phrase: Phrase, lemma_seq: tuple[str, ...]) -> int:
    """The plain scan over every position that Phrase.find replaced with C-level search."""
    from leakwatch.classifier.morphology import _negated_before

    want = phrase.lemmas
    for start, lemma in enumerate(lemma_seq):
        if not want or lemma != want[0] or _negated_before(lemma_seq, start):
            continue
        pos, ok = start, True
        for nxt in want[1:]:
            window = lemma_seq[pos + 1 : pos + 2 + phrase.max_gap]
            if nxt not in window or "не" in window[: window.index(nxt)]:
                ok = False
                break
            pos = pos + 1 + window.index(nxt)
        if ok and lemma_seq[pos + 1 : pos + 2] != ("не",):
            return start
    return -1


def test_find_answers_as_the_plain_scan_on_random_sequences():
    import random

    rng = random.Random(5)
    words = ("не", "мочь", "дорого", "получить", "счет", "и", "так", "мы", "это", "брать")
    phrases = [Phrase(p, max_gap=g) for p in ("дорого", "не получить", "получить счет", "так и не", "брать")
               for g in (0, 2)]
    hits = 0
    for _ in range(3000):
        seq = tuple(rng.choice(words) for _ in range(rng.randrange(0, 12)))
        for p in phrases:
            want = _reference_find(p, seq)
            assert p.find(seq) == want, (p, seq)
            hits += want >= 0
    assert hits > 500  # the sequences do exercise matches, not only misses

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

import pytest

from leakwatch.domain.plurals import cases_ru, count_ru, days_ru, of_ru


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 случаев"), (1, "1 случай"), (2, "2 случая"), (4, "4 случая"), (5, "5 случаев"),
    (11, "11 случаев"), (12, "12 случаев"), (14, "14 случаев"), (21, "21 случай"), (22, "22 случая"),
    (47, "47 случаев"), (101, "101 случай"), (111, "111 случаев"), (1_000_002, "1000002 случая"),
])
def test_cases(n, text):
    assert cases_ru(n) == text


def test_other_nouns():
    assert days_ru(28) == "28 дней" and days_ru(21) == "21 день" and days_ru(3) == "3 дня"
    assert count_ru(1, "случае", "случаях", "случаях") == "1 случае"
    assert count_ru(47, "случае", "случаях", "случаях") == "47 случаях"


@pytest.mark.parametrize(("part", "verb"), [(1, "был"), (0, "были"), (2, "были"), (21, "были"), (31, "были"),
                                            (101, "были"), (11, "были")])
def test_the_predicate_after_iz_is_singular_only_for_one(part, verb):
    assert of_ru(part, "был", "были") == verb

import pytest

from leakwatch.classifier.answer_cache import answer_cache, answer_key


def test_cache_is_an_lru_of_the_given_size():
    cache = answer_cache(2)
    cache["a"], cache["b"] = 1, 2
    assert cache.get("a") == 1  # a is now fresh
    cache["c"] = 3
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_key_is_conversation_prompt_version_and_model():
    key = answer_key("m", "p2", "conversation")
    assert key == answer_key("m", "p2", "conversation")
    assert len({key, answer_key("n", "p2", "conversation"), answer_key("m", "p3", "conversation"),
                answer_key("m", "p2", "conversation!")}) == 4
    assert "conversation" not in key  # a hash: the cache holds no text


def test_size_zero_is_no_cache_and_negative_is_an_error():
    assert answer_cache(0) is None
    with pytest.raises(ValueError):
        answer_cache(-1)

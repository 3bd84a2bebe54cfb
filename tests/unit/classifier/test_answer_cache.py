from leakwatch.classifier.answer_cache import LRUCache, conversation_key


def test_lru_evicts_the_least_recently_used():
    cache = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now fresh
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_key_depends_on_model_and_content_only():
    msgs = [{"role": "user", "content": "x"}]
    assert conversation_key("m", msgs) == conversation_key("m", [dict(msgs[0])])
    assert conversation_key("m", msgs) != conversation_key("n", msgs)
    assert len(conversation_key("m", msgs)) == 64


def test_zero_size_stores_nothing():
    cache = LRUCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None

from leakwatch.domain.due_queue import DueQueue


def test_items_come_out_in_due_order_and_only_when_due():
    q = DueQueue()
    q.push("a", 30, "A")
    q.push("b", 10, "B")
    q.push("c", 20, "C")
    assert q.next_due() == 10
    assert q.pop_due(now=5, limit=10) == []
    assert q.pop_due(now=20, limit=10) == ["B", "C"]
    assert len(q) == 1 and q.pop_due(now=100, limit=10) == ["A"] and q.next_due() is None


def test_pushing_a_key_again_replaces_item_and_due_time():
    q = DueQueue()
    assert q.push("d1", 100, "rev1") is None
    assert q.push("d1", 0, "rev2") == "rev1"  # a review: due at once
    assert q.pop_due(now=1, limit=10) == ["rev2"]
    assert q.pop_due(now=1000, limit=10) == [] and len(q) == 0


def test_limit_is_respected():
    q = DueQueue()
    for i in range(5):
        q.push(i, i, i)
    assert q.pop_due(now=10, limit=2) == [0, 1] and len(q) == 3

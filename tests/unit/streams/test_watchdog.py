from streams.watchdog import CommitWatchdog


def test_a_commit_that_does_not_move_under_steady_reading_is_flagged():
    dog = CommitWatchdog(stall_after_s=30)
    for t, read in ((0, 10), (10, 20), (20, 30)):  # reading goes on, the commit stays at 5
        assert dog.check(t, {"t:0": read}, {"t:0": 5}, {"t:0": read + 1}) == []
    assert dog.check(30, {"t:0": 40}, {"t:0": 5}, {"t:0": 41}) == ["t:0"]


def test_moving_commits_are_not_flagged():
    dog = CommitWatchdog(stall_after_s=30)
    for t in range(0, 100, 10):
        assert dog.check(t, {"t:0": t + 10}, {"t:0": t + 5}, {"t:0": t + 20}) == []


def test_an_idle_partition_committed_to_its_end_is_not_flagged():
    # After a restart Faust reports read = committed - 1 or nothing at all; the log ends there.
    dog = CommitWatchdog(stall_after_s=1)
    for t in range(5):
        assert dog.check(t, {"t:0": 41}, {"t:0": 42}, {"t:0": 42}) == []
        assert dog.check(t, {"t:1": None}, {"t:1": 7}, {"t:1": 7}) == []


def test_messages_never_delivered_after_a_seek_are_flagged():
    dog = CommitWatchdog(stall_after_s=20)
    assert dog.check(0, {"t:0": None}, {"t:0": 42}, {"t:0": 60}) == []
    assert dog.check(10, {"t:0": None}, {"t:0": 42}, {"t:0": 60}) == []
    assert dog.check(20, {"t:0": None}, {"t:0": 42}, {"t:0": 60}) == ["t:0"]


def test_a_commit_that_moves_again_clears_the_alarm():
    dog = CommitWatchdog(stall_after_s=10)
    dog.check(0, {"t:0": 9}, {"t:0": 2}, {"t:0": 10})
    assert dog.check(10, {"t:0": 9}, {"t:0": 2}, {"t:0": 10}) == ["t:0"]
    assert dog.check(20, {"t:0": 9}, {"t:0": 10}, {"t:0": 10}) == []

from streams.watchdog import CommitWatchdog


def test_uncommitted_messages_behind_an_idle_read_offset_are_flagged_after_patience():
    dog = CommitWatchdog(patience=3)
    read, committed, end = {"t:0": 19, "t:1": 7}, {"t:0": 2, "t:1": 8}, {"t:0": 20, "t:1": 8}
    assert dog.check(read, committed, end, 0) == []  # first sight: no history yet
    assert dog.check(read, committed, end, 0) == []
    assert dog.check(read, committed, end, 0) == []
    assert dog.check(read, committed, end, 0) == ["t:0"]  # t:1 is committed to its end


def test_an_idle_partition_right_after_a_seek_is_not_stalled():
    # After a restart Faust sets read = committed; with nothing new in the log it stays so.
    dog = CommitWatchdog(patience=1)
    for _ in range(5):
        assert dog.check({"t:0": 42}, {"t:0": 42}, {"t:0": 42}, 0) == []


def test_messages_never_delivered_after_a_seek_are_stalled():
    dog = CommitWatchdog(patience=2)
    for _ in range(2):
        assert dog.check({"t:0": 42}, {"t:0": 42}, {"t:0": 60}, 0) == []
    assert dog.check({"t:0": 42}, {"t:0": 42}, {"t:0": 60}, 0) == ["t:0"]


def test_progress_or_work_in_flight_resets_the_count():
    dog = CommitWatchdog(patience=2)
    committed, end = {"t:0": 2}, {"t:0": 30}
    dog.check({"t:0": 10}, committed, end, 0)
    dog.check({"t:0": 10}, committed, end, 0)
    assert dog.check({"t:0": 12}, committed, end, 0) == []  # still reading: Faust is busy
    assert dog.check({"t:0": 12}, committed, end, 3) == []  # events in flight: commits will follow
    assert dog.check({"t:0": 12}, committed, end, 0) == []
    assert dog.check({"t:0": 12}, committed, end, 0) == ["t:0"]


def test_unknown_end_of_log_is_never_flagged():
    dog = CommitWatchdog(patience=1)
    dog.check({"t:0": 5}, {}, {}, 0)
    assert dog.check({"t:0": 5}, {}, {}, 0) == []

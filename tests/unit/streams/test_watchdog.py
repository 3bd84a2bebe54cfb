from streams.watchdog import CommitWatchdog


def test_a_commit_stuck_behind_an_idle_read_offset_is_flagged_after_patience():
    dog = CommitWatchdog(patience=3)
    read, committed = {"t:0": 19, "t:1": 7}, {"t:0": 2, "t:1": 8}
    assert dog.check(read, committed, 0) == []  # first sight: no history yet
    assert dog.check(read, committed, 0) == []
    assert dog.check(read, committed, 0) == []
    assert dog.check(read, committed, 0) == ["t:0"]  # t:1 is fully committed


def test_progress_or_work_in_flight_resets_the_count():
    dog = CommitWatchdog(patience=2)
    committed = {"t:0": 2}
    dog.check({"t:0": 10}, committed, 0)
    dog.check({"t:0": 10}, committed, 0)
    assert dog.check({"t:0": 12}, committed, 0) == []  # still reading: Faust is busy
    assert dog.check({"t:0": 12}, committed, 3) == []  # events in flight: commits will follow
    assert dog.check({"t:0": 12}, committed, 0) == []
    assert dog.check({"t:0": 12}, committed, 0) == ["t:0"]


def test_a_partition_never_committed_counts_as_behind():
    dog = CommitWatchdog(patience=1)
    dog.check({"t:0": 5}, {}, 0)
    assert dog.check({"t:0": 5}, {}, 0) == ["t:0"]

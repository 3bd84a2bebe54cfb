"""aiokafka's reconnect errors while a broker restarts: said once a minute per template."""

from __future__ import annotations

import logging

from leakwatch.logs import RepeatsQuieted


def _record(msg: str, *args, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("aiokafka.client", level, __file__, 1, msg, args, None)


def test_repeats_of_one_template_are_held_back_and_counted_in_the_next_passed_one():
    now = [0.0]
    quiet = RepeatsQuieted(every_s=60, clock=lambda: now[0])
    unable = 'Unable connect to "%s:%s": %s'
    passed = []
    for t in range(0, 130, 1):  # one failure a second for 130 s
        now[0] = float(t)
        r = _record(unable, "127.0.0.1", 9092, "refused")
        if quiet.filter(r):
            passed.append((t, r.getMessage()))
    assert [t for t, _ in passed] == [0, 60, 120]
    assert passed[0][1] == 'Unable connect to "127.0.0.1:9092": refused'
    assert passed[1][1].endswith("(and 59 more like it in the last 60 s)")


def test_other_templates_and_debug_records_are_not_held_back():
    now = [0.0]
    quiet = RepeatsQuieted(every_s=60, clock=lambda: now[0])
    assert quiet.filter(_record("Unable connect to node with id %s: %s", 1, "x"))
    assert quiet.filter(_record("Unable to update metadata from %s", [1]))
    assert not quiet.filter(_record("Unable connect to node with id %s: %s", 2, "y"))
    assert quiet.filter(_record("Unable connect to node with id %s: %s", 1, "x", level=logging.DEBUG))

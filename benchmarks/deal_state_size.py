"""How big one deal's state gets: a deal with N calls (default 50), each with a transcript,
folded as the enrich agent folds it; the JSON bytes of the state (= one changelog record)
and its Python memory, unbounded and with the retention rules (leakwatch.domain.retention).

Run: .venv/bin/python benchmarks/deal_state_size.py [--calls 50] [--cap 200]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

import orjson

from leakwatch.domain.deal_state import DealState, apply_event
from leakwatch.domain.retention import bounded, expire, touched
from schemas.events import CallEvent, DealEvent, TranscriptTurn

T0 = datetime(2026, 11, 18, 10, 0, tzinfo=timezone.utc)
TURNS = ("Добрый день, это Анна из «Вектора», вы оставляли заявку на курс.",
         "Да, но я пока думаю, для меня это дорого.",
         "Понимаю. Могу прислать программу и варианты рассрочки на почту.",
         "Пришлите, посмотрю на выходных.",
         "Хорошо, перезвоню вам в понедельник после обеда.",
         "Договорились, до свидания.")


def fold(calls: int, cap: int | None) -> DealState:
    state, _ = apply_event(None, DealEvent(event_id="c", deal_id="D-50", ts=T0, type="created", stage="Новая заявка",
                                           pipeline="b2c", manager="Анна Смирнова", amount_rub=48000))
    for i in range(calls):
        turns = [TranscriptTurn(offset_s=10 * j, speaker="manager" if j % 2 == 0 else "client", text=t)
                 for j, t in enumerate(TURNS)]
        state, _ = apply_event(state, CallEvent(event_id=f"call-{i}", deal_id="D-50", call_id=f"k{i}", direction="out",
                                                status="answered", duration_s=240, ts=T0 + timedelta(hours=i),
                                                manager="Анна Смирнова", transcript=turns))
        if cap is not None:
            state = bounded(state, timeline_cap=cap)
    state, _ = apply_event(state, DealEvent(event_id="lost", deal_id="D-50", ts=T0 + timedelta(hours=calls),
                                            type="lost", stage="Закрыто и не реализовано", lost_reason="Дорого"))
    return touched(bounded(state, timeline_cap=cap) if cap else state, time.time())


def measure(make) -> dict:
    tracemalloc.start()
    state = make()
    size_py, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"timeline": len(state.timeline), "json_bytes": len(orjson.dumps(state.model_dump(mode="json"))),
            "python_bytes": size_py}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=50)
    p.add_argument("--cap", type=int, default=200)
    a = p.parse_args()
    unbounded = measure(lambda: fold(a.calls, None))
    capped = measure(lambda: fold(a.calls, a.cap))
    dried = measure(lambda: expire(fold(a.calls, a.cap), time.time() + 3600, grace_s=120, retention_s=90 * 86400))
    print(json.dumps({"calls": a.calls, "cap": a.cap, "unbounded": unbounded, "capped": capped,
                      "after_grace": dried}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Conversations per second of the classifier engines (a benchmark, not a test).

    python benchmarks/classifier_speed.py [FILE] [--repeat N] [--latency-ms 200] [--concurrency 8]

- embedded: one core (BLAS/OpenMP pinned to one thread), warm model, batches of 64;
  the one-off start-up (encoder + bank training) is reported separately.
- openai: the real client against a local fake OpenAI-compatible server that answers
  after `--latency-ms`, with `--concurrency` requests in flight; measures the engine's
  own overhead and how concurrency hides the LLM's latency.
FILE defaults to the dev set, else the example bank.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before numpy loads

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.support holds the fake LLM

from leakwatch.classifier.cli import BATCH_SIZE  # noqa: E402
from leakwatch.classifier.embedded import EmbeddedClassifier  # noqa: E402
from leakwatch.classifier.labelled import BANK_PATH, load_labelled  # noqa: E402
from leakwatch.classifier.openai_engine import OpenAIClassifier  # noqa: E402
from leakwatch.settings import REPO_ROOT  # noqa: E402
from tests.support.fake_llm import FakeLLMServer, Reply  # noqa: E402

DEV_SET = REPO_ROOT / "tests" / "data" / "classifier_dev.jsonl"
ANSWER = json.dumps(
    {"target": True, "reason": "Дорого", "kind": "real", "leak": None, "hot": False,
     "confidence": 0.7, "evidence": ""},
    ensure_ascii=False,
)


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


async def _classify(engine, items) -> float:
    start = time.perf_counter()
    for i in range(0, len(items), BATCH_SIZE):
        await engine.classify(items[i : i + BATCH_SIZE])
    return time.perf_counter() - start


def bench_embedded(items) -> None:
    engine = EmbeddedClassifier()
    start = time.perf_counter()
    engine.warm_up()
    print(f"embedded: start-up (encoder + bank training) {time.perf_counter() - start:.2f} s")
    seconds = asyncio.run(_classify(engine, items))
    chars = sum(len(m.text) for item in items for m in item.messages) / len(items)
    print(f"embedded: {len(items) / seconds:.1f} conversations/s on one core "
          f"({len(items)} conversations, {chars:.0f} chars each on average)")


def bench_openai(items, latency_ms: float, concurrency: int) -> None:
    async def run(server) -> float:
        engine = OpenAIClassifier(base_url=server.base_url, model="fake", concurrency=concurrency,
                                  cache_size=0, fallback=EmbeddedClassifier())
        try:
            return await _classify(engine, items)
        finally:
            await engine.aclose()

    with FakeLLMServer(lambda request, n: Reply(content=ANSWER, delay_s=latency_ms / 1000)) as server:
        seconds = asyncio.run(run(server))
    ideal = concurrency / (latency_ms / 1000) if latency_ms else float("inf")
    print(f"openai:   {len(items) / seconds:.1f} conversations/s, concurrency {concurrency}, "
          f"server latency {latency_ms:.0f} ms (ceiling {ideal:.1f}/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", type=Path, default=DEV_SET if DEV_SET.exists() else BANK_PATH)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the file")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    _pin_to_one_core()
    items = [x.item for x in load_labelled(args.file)] * args.repeat
    print(f"{args.file}: {len(items)} conversations ({args.repeat} passes)")
    bench_embedded(items)
    bench_openai(items, args.latency_ms, args.concurrency)


if __name__ == "__main__":
    main()

"""`leakwatch classify FILE` and `leakwatch eval FILE`.

classify: one JSON result per input line on stdout, in input order, each with the input's id.
eval:     the input lines carry "gold" labels; prints accuracy per label, kind F1, the
          confusion tables, the reliability of the confidence (bins: count, accuracy) and the
          review split at LEAKWATCH_REVIEW_BELOW_CONFIDENCE.
Engine settings come from the environment (LEAKWATCH_CLASSIFIER_ENGINE, LEAKWATCH_OPENAI_*);
`--engine` overrides the engine name. A bad line stops before any work, naming the line.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TextIO

from schemas.conversation import ClassificationResult, ConversationInput
from leakwatch.classifier.engines import ENGINE_NAMES, engine_from_settings
from leakwatch.classifier.labelled import InputError, parse_lines

BATCH_SIZE = 64  # bounds memory and lets results stream while the rest is classified


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, func, help_text in (
        ("classify", run_classify, "classify lost-deal conversations (JSON Lines) into refusal labels"),
        ("eval", run_eval, "measure an engine on conversations with gold labels"),
    ):
        parser = subparsers.add_parser(name, help=help_text, description=help_text)
        parser.add_argument("file", help="JSON Lines, one conversation per line ('-' reads stdin)")
        parser.add_argument("--engine", choices=ENGINE_NAMES, help="overrides LEAKWATCH_CLASSIFIER_ENGINE")
        parser.set_defaults(func=func)


def _read(path: str, *, with_gold: bool) -> list:
    if path == "-":
        return list(parse_lines(sys.stdin, "<stdin>", with_gold=with_gold))
    with open(path, encoding="utf-8") as f:
        return list(parse_lines(f, path, with_gold=with_gold))


def _settings(args: argparse.Namespace):
    from leakwatch.settings import load_settings  # exits with a message naming a bad setting

    overrides = {"classifier_engine": args.engine} if args.engine else {}
    return load_settings(**overrides)


def _engine(args: argparse.Namespace):
    return engine_from_settings(_settings(args))


async def classify_all(engine, items: list[ConversationInput], out: TextIO | None = None) -> list[ClassificationResult]:
    results: list[ClassificationResult] = []
    try:
        for start in range(0, len(items), BATCH_SIZE):
            batch = await engine.classify(items[start : start + BATCH_SIZE])
            if out is not None:
                out.writelines(r.model_dump_json() + "\n" for r in batch)
                out.flush()
            results.extend(batch)
    finally:
        await engine.aclose()
    return results


def _load_or_complain(args: argparse.Namespace, *, with_gold: bool) -> list | None:
    try:
        return _read(args.file, with_gold=with_gold)
    except (InputError, OSError) as exc:
        print(f"leakwatch {args.command}: {exc}", file=sys.stderr)
        return None


def run_classify(args: argparse.Namespace) -> int:
    items = _load_or_complain(args, with_gold=False)
    if items is None:
        return 2
    try:
        asyncio.run(classify_all(_engine(args), items, sys.stdout))
    except BrokenPipeError:  # `leakwatch classify … | head`: the reader has had enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def run_eval(args: argparse.Namespace) -> int:
    from leakwatch.classifier.calibration import reliability, verdict_correct
    from leakwatch.classifier.eval_report import print_report
    from leakwatch.classifier.evaluation import evaluate, review_split

    labelled = _load_or_complain(args, with_gold=True)
    if labelled is None:
        return 2
    settings = _settings(args)
    engine = engine_from_settings(settings)
    results = asyncio.run(classify_all(engine, [x.item for x in labelled]))
    gold = [x.gold for x in labelled]
    report = evaluate(gold, results)
    confidence = [r.confidence for r in results]
    correct = [verdict_correct(g, r) for g, r in zip(gold, results)]
    # The same rule as the product's flag (domain.refusals): target verdicts below the threshold.
    review = review_split(gold, results, confidence, settings.review_below_confidence, targets_only=True)
    print_report(report, engine.info, fallbacks=sum(1 for r in results if r.fallback_from),
                 reliability=reliability(confidence, correct), review=review)
    return 0

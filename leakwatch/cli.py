"""The `leakwatch` command. Each subcommand lives in the module that owns its feature;
this file only wires them, importing lazily so `leakwatch classify` does not load Faust."""

from __future__ import annotations

import argparse
import importlib
import sys

from leakwatch.errors import StartupError

DESCRIPTION = ("leakwatch: where a sales department loses money. CRM and telephony events in Kafka, "
               "each lost deal's true refusal reason and leak, live cards in ClickHouse, Grafana and "
               "the terminal. Settings come from LEAKWATCH_* environment variables (see README.md). "
               "`leakwatch COMMAND --help` explains a command.")

# subcommand -> module exposing `register(subparsers)`; the module adds its parser and
# sets `func` (called with the parsed args, returns an exit code).
SUBCOMMANDS = {
    "worker": "streams.cli",
    "topics": "streams.cli",
    "classify": "leakwatch.classifier.cli",
    "eval": "leakwatch.classifier.cli",
    "board": "leakwatch.board.cli",
    "grafana": "leakwatch.grafana.cli",
    "simulate": "services.simulator.cli",
    "ingest": "services.ingest.cli",
    "transcribe": "services.transcribe.cli",
    "notifier": "services.notifier.cli",
    "sink": "services.sink.cli",
    "demo": "services.demo",
    "reactivation": "services.reactivation.cli",
    "import": "services.history.cli",
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leakwatch", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    wanted = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    modules = [SUBCOMMANDS[wanted]] if wanted else sorted(set(SUBCOMMANDS.values()))
    for name in dict.fromkeys(modules):
        try:
            importlib.import_module(name).register(sub)
        except ModuleNotFoundError as exc:  # a feature not installed in this build
            if wanted:
                raise
            print(f"leakwatch: {name} unavailable ({exc})", file=sys.stderr)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StartupError as exc:
        print(f"leakwatch: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

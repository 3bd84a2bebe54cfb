"""`leakwatch demo`: the whole pipeline on this machine, no Docker. Starts Kafka (the
project's script), the sink (it owns ClickHouse and serves the web board), the worker, the
reactivation service and live simulated traffic; prints the web board's address and the two
cards' numbers as they change. Ctrl-C stops everything it started.

The processes write to log files under .local/, never to the terminal: a line from them
(librdkafka logs on stderr from C, past rich's redirection) would land on the board and
break its redraw."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

import httpx
from rich.console import Console
from rich.text import Text

from leakwatch.domain.money import format_rub as rub
from leakwatch.domain.plurals import count_ru
from leakwatch.settings import REPO_ROOT
from services.health import NotHealthy, wait_healthy
from services.simulator.spec_scenario import AVERAGE_CHECK_RUB as SPEC_AVERAGE_CHECK_RUB
from services.simulator.spec_scenario import PIPELINE as SPEC_PIPELINE

STATE = REPO_ROOT / ".local"
KAFKA = REPO_ROOT / "deploy" / "local" / "kafka.sh"


def register(sub) -> None:
    p = sub.add_parser("demo", help="run Kafka, the sink, the worker and simulated traffic; show the cards live")
    p.add_argument("--rate", type=float, default=1.5, help="simulated deals per second")
    p.add_argument("--port", type=int, default=6067, help="the sink's HTTP port (the cards and the web board)")
    p.add_argument("--worker-port", type=int, default=6066, help="the worker's HTTP port (metrics, health)")
    p.set_defaults(func=run)


def summary(cards: dict) -> str:
    c1, c2 = cards["card1"], cards["card2"]
    main = c2["by_leak"][0] if c2["by_leak"] else None
    main_text = f"главная: «{main['leak']}» {rub(main['leak_rub'])} ({main['leak_pct']}%)" if main else "главная: —"
    on_cases = count_ru(c2["cases"], "случае", "случаях", "случаях")  # «на 1 случае», «на 47 случаях»
    return (f"{datetime.now():%H:%M:%S}  Отказы целевых: {c1['total']:>4} | Можно было спасти: {c1['salvageable']:>4} "
            f"({c1['salvageable_pct']}%) | Потенц. выручка: {rub(c1['potential_lost_rub'])}  ||  "
            f"Утечка дня: {rub(c2['leak_rub'])} на {on_cases}, {main_text}, "
            f"горячих {c2['hot_cases']} из {c2['cases']}")


def demo_environment(args, environ) -> dict[str, str]:
    """The children's environment: the user's, with the demo's ports, folders and a short grace."""
    return {**environ,
            "LEAKWATCH_WEB_TOKEN": environ.get("LEAKWATCH_WEB_TOKEN") or secrets.token_urlsafe(12),
            "LEAKWATCH_WORKER_WEB_PORT": str(args.worker_port),
            "LEAKWATCH_SINK_WEB_PORT": str(args.port),
            "LEAKWATCH_SINK_URL": f"http://127.0.0.1:{args.port}",
            "LEAKWATCH_GRACE_PERIOD_S": environ.get("LEAKWATCH_GRACE_PERIOD_S", "3"),
            # The design's ₽40 000 for the spec's pipeline (DESIGN.md): else the live traffic's won
            # deals (₽18 000–120 000) would set the average check of `leakwatch simulate spec`'s days.
            "LEAKWATCH_AVERAGE_CHECK_RUB": environ.get("LEAKWATCH_AVERAGE_CHECK_RUB")
            or f"{SPEC_PIPELINE}={SPEC_AVERAGE_CHECK_RUB}",
            "LEAKWATCH_CHDB_PATH": str(STATE / "demo-chdb"),
            "LEAKWATCH_WORKER_DATA_DIR": str(STATE / "demo-faust")}


def check_settings(env: dict[str, str]) -> None:
    """The children's settings, checked here before anything starts: a wrong one is printed on
    this terminal (naming it) and stops the demo, instead of only in a child's log file."""
    from leakwatch.settings import load_settings

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        load_settings()  # prints the error and raises SettingsError (exit 2)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _tail(path, lines: int = 15) -> str:
    """The end of a child's log, for the terminal when it failed to start."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").rstrip().splitlines()[-lines:]
    except OSError:
        return ""
    return "\n".join(f"  | {line}" for line in text)


def _failed(what: str, path) -> SystemExit:
    tail = _tail(path)
    return SystemExit(f"{what}; the end of {path}:\n{tail}" if tail else f"{what}; see {path}")


def run(args) -> int:
    given = os.environ.get("LEAKWATCH_WEB_TOKEN")  # the board's reviews: this one, or one made for this run
    env = demo_environment(args, os.environ)
    check_settings(env)
    started: list[subprocess.Popen] = []
    log, sim_log, sink_log = STATE / "demo-worker.log", STATE / "demo-simulator.log", STATE / "demo-sink.log"
    react_log = STATE / "demo-reactivation.log"
    console = Console()
    try:
        STATE.mkdir(exist_ok=True)
        # A fresh stack each time: the demo's numbers start at zero.
        subprocess.run([str(KAFKA), "reset"], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(STATE / "demo-chdb", ignore_errors=True)
        subprocess.run([str(KAFKA), "start"], check=True)
        # The sink owns ClickHouse and serves the cards and the web board; the worker writes Kafka only.
        sink = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "sink"], env=env,
                                stdout=sink_log.open("w"), stderr=subprocess.STDOUT)
        started.append(sink)
        url = f"http://127.0.0.1:{args.port}"
        try:
            wait_healthy(url, sink, 180, name="sink")
        except NotHealthy as exc:
            raise _failed(str(exc), sink_log) from None
        login = "LEAKWATCH_WEB_TOKEN" if given else f"the token {env['LEAKWATCH_WEB_TOKEN']} (made for this run)"
        print(f"web board: {url}/  (reviews: log in with {login}; log: {sink_log})")
        worker = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "worker"], env=env,
                                  stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(worker)
        # 10–40 s (minutes on a busy machine): topics and the embedded classifier learning its example bank.
        waiting = "worker starting: topics, the classifier's example bank"
        try:
            with console.status(f"{waiting}…") as status:
                took = wait_healthy(f"http://127.0.0.1:{args.worker_port}", worker, 600, name="worker",
                                    on_wait=lambda s: status.update(f"{waiting}… {s:.0f} s"))
        except NotHealthy as exc:
            raise _failed(str(exc), log) from None
        print(f"worker ready in {took:.0f} s (log: {log})")
        whose = "yours" if os.environ.get("LEAKWATCH_AVERAGE_CHECK_RUB") else "the design's, for the spec days"
        print(f"average check: {env['LEAKWATCH_AVERAGE_CHECK_RUB']} (LEAKWATCH_AVERAGE_CHECK_RUB, {whose}; other "
              f"pipelines: their won deals' mean). The design's example days: `leakwatch simulate spec`, then "
              f"{url}/?from=2026-11-18 (card 1) and ?from=2026-11-19 (card 2)")
        # The «Воронка отказов»: refusals.classified -> refusals.reactivation (CRM tasks off by default).
        react = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "reactivation", "run"], env=env,
                                 stdout=react_log.open("w"), stderr=subprocess.STDOUT)
        started.append(react)
        sim = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "simulate", "live", "--rate", str(args.rate)],
                               env=env, stdout=sim_log.open("w"), stderr=subprocess.STDOUT)
        started.append(sim)
        print(f"simulated traffic flowing (log: {sim_log}); cards for today (Ctrl-C stops everything):")
        if sys.stdout.isatty():
            _live_board(url, worker, console)
            return 0
        last = None
        while True:
            for proc, name, path in ((worker, "worker", log), (sink, "sink", sink_log),
                                     (react, "reactivation", react_log)):
                if proc.poll() is not None:
                    print(_failed(f"{name} exited ({proc.returncode})", path).code, file=sys.stderr)
                    return 1
            try:
                line = summary(httpx.get(f"{url}/cards", timeout=10).json())
                key = line[10:]
                if key != last:
                    print(line, flush=True)
                    last = key
            except httpx.HTTPError:
                pass
            time.sleep(2)
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        for proc in reversed(started):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(started):
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
        subprocess.run([str(KAFKA), "stop"], check=False)


def _live_board(url: str, worker: subprocess.Popen, console: Console) -> None:
    """The terminal board, redrawn every 2 s until Ctrl-C or the worker stops. On the
    alternate screen, as `leakwatch board` draws it: each frame starts at the top, so a board
    taller than the terminal is cut, never scrolled into a second copy of its top lines."""
    from rich.live import Live

    from leakwatch.board.render import board
    from leakwatch.board.source import SinkSource
    from leakwatch.cards.period import day_bounds
    from leakwatch.settings import load_settings

    tz, source = load_settings().tz, SinkSource(url)
    last = None
    try:
        with Live(Text("waiting for the first cards…", style="dim"), console=console, refresh_per_second=2,
                  screen=True) as live:
            while worker.poll() is None:
                try:
                    last = source.cards(*day_bounds(datetime.now(tz), tz), None, None)
                    live.update(board(last))
                except httpx.HTTPError:
                    pass
                time.sleep(2)
    finally:
        if last is not None:  # the alternate screen is gone: leave the last numbers behind
            print(summary(last.model_dump(mode="json")))

"""`leakwatch demo`: the whole pipeline on this machine, no Docker. Starts Kafka (the
project's script), the worker, and live simulated traffic; prints the two cards' numbers
as they change. Ctrl-C stops everything it started."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

import httpx

from leakwatch.domain.money import format_rub as rub
from leakwatch.domain.plurals import count_ru
from leakwatch.settings import REPO_ROOT
from services.health import NotHealthy, wait_healthy

STATE = REPO_ROOT / ".local"
KAFKA = REPO_ROOT / "deploy" / "local" / "kafka.sh"


def register(sub) -> None:
    p = sub.add_parser("demo", help="run Kafka, the worker and simulated traffic; show the cards live")
    p.add_argument("--rate", type=float, default=1.5, help="simulated deals per second")
    p.add_argument("--port", type=int, default=6066, help="the worker's HTTP port")
    p.set_defaults(func=run)


def summary(cards: dict) -> str:
    c1, c2 = cards["card1"], cards["card2"]
    main = c2["by_leak"][0] if c2["by_leak"] else None
    main_text = f"главная: «{main['leak']}» {rub(main['leak_rub'])} ({main['leak_pct']}%)" if main else "главная: —"
    return (f"{datetime.now():%H:%M:%S}  Отказы целевых: {c1['total']:>4} | Можно было спасти: {c1['salvageable']:>4} "
            f"({c1['salvageable_pct']}%) | Потенц. выручка: {rub(c1['potential_lost_rub'])}  ||  "
            f"Утечка дня: {rub(c2['leak_rub'])} на {count_ru(c2['cases'], 'случае', 'случаях', 'случаях')}, {main_text}, "
            f"горячих {c2['hot_cases']} из {c2['cases']}")


def run(args) -> int:
    env = {**os.environ,
           "LEAKWATCH_WORKER_WEB_PORT": str(args.port),
           "LEAKWATCH_GRACE_PERIOD_S": os.environ.get("LEAKWATCH_GRACE_PERIOD_S", "3"),
           "LEAKWATCH_CHDB_PATH": str(STATE / "demo-chdb"),
           "LEAKWATCH_WORKER_DATA_DIR": str(STATE / "demo-faust")}
    started: list[subprocess.Popen] = []
    log = (STATE / "demo-worker.log")
    try:
        STATE.mkdir(exist_ok=True)
        # A fresh stack each time: the demo's numbers start at zero.
        subprocess.run([str(KAFKA), "reset"], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(STATE / "demo-chdb", ignore_errors=True)
        subprocess.run([str(KAFKA), "start"], check=True)
        print(f"worker starting (log: {log})")
        worker = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "worker"], env=env,
                                  stdout=log.open("w"), stderr=subprocess.STDOUT)
        started.append(worker)
        url = f"http://127.0.0.1:{args.port}"
        try:
            wait_healthy(url, worker, 180, name="worker")
        except NotHealthy as exc:
            raise SystemExit(f"{exc}; see {log}") from None
        sim = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "simulate", "live", "--rate", str(args.rate)],
                               env=env, stdout=subprocess.DEVNULL)
        started.append(sim)
        print("simulated traffic flowing; cards for today (Ctrl-C stops everything):")
        if sys.stdout.isatty():
            _live_board(url, worker)
            return 0
        last = None
        while True:
            if worker.poll() is not None:
                print(f"worker exited ({worker.returncode}); see {log}", file=sys.stderr)
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


def _live_board(url: str, worker: subprocess.Popen) -> None:
    """The terminal board, redrawn in place every 2 s until Ctrl-C or the worker stops."""
    from rich.live import Live

    from leakwatch.board.render import board
    from leakwatch.board.source import WorkerSource
    from leakwatch.cards.period import day_bounds
    from leakwatch.settings import load_settings

    tz, source = load_settings().tz, WorkerSource(url)
    with Live(refresh_per_second=2, screen=False) as live:
        while worker.poll() is None:
            try:
                live.update(board(source.cards(*day_bounds(datetime.now(tz), tz), None, None)))
            except httpx.HTTPError:
                pass
            time.sleep(2)

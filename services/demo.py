"""`leakwatch demo`: the whole pipeline on this machine, no Docker. Starts Kafka (the
project's script), the worker, the web board and live simulated traffic; prints the board's
address and the two cards' numbers as they change. Ctrl-C stops everything it started."""

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

from leakwatch.domain.money import format_rub as rub
from leakwatch.settings import REPO_ROOT

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
            f"Утечка дня: {rub(c2['leak_rub'])} на {c2['cases']} случаях, {main_text}, "
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
        _wait_healthy(url, worker)
        started.append(_web_board(env))
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


def _web_board(env: dict) -> subprocess.Popen:
    """The web board beside the worker, on its own store fed from refusals.classified (the
    worker owns its chdb). Reviews need a token: the environment's, or one made for this run."""
    given = env.get("LEAKWATCH_WEB_TOKEN")
    token = given or secrets.token_urlsafe(12)
    shutil.rmtree(STATE / "demo-web-chdb", ignore_errors=True)
    web_env = {**env, "LEAKWATCH_CHDB_PATH": str(STATE / "demo-web-chdb"), "LEAKWATCH_WEB_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "leakwatch.cli", "web", "--follow"], env=web_env,
                            stdout=(STATE / "demo-web.log").open("w"), stderr=subprocess.STDOUT)
    port = env.get("LEAKWATCH_WEB_PORT", "6070")
    login = "LEAKWATCH_WEB_TOKEN" if given else f"the token {token} (made for this run)"
    print(f"web board: http://127.0.0.1:{port}/  (reviews: log in with {login})")
    return proc


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


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"worker exited during start ({proc.returncode})")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("worker did not become healthy")

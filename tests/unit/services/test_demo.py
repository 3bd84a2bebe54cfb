"""`leakwatch demo` before it starts anything: a wrong setting is said on the terminal (not
only in a child's log), and the spec's pipeline gets the design's ₽40 000 average check."""

from __future__ import annotations

import argparse
import os

import pytest

from leakwatch.settings import SettingsError
from services import demo
from services.simulator import spec_scenario

ARGS = argparse.Namespace(rate=1.5, port=6067, worker_port=6066)


@pytest.fixture
def nothing_starts(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"the demo started {args[0]} despite a wrong setting")
    monkeypatch.setattr(demo.subprocess, "run", refuse)
    monkeypatch.setattr(demo.subprocess, "Popen", refuse)


def test_a_wrong_setting_stops_the_demo_before_any_child(monkeypatch, capsys, nothing_starts):
    monkeypatch.setenv("LEAKWATCH_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError) as exc:
        demo.run(ARGS)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("leakwatch: invalid settings\n  LEAKWATCH_TIMEZONE: ") and "Mars/Olympus" in err
    assert os.environ["LEAKWATCH_TIMEZONE"] == "Mars/Olympus" and "LEAKWATCH_SINK_URL" not in os.environ  # restored


def test_a_misspelled_one_too(monkeypatch, capsys, nothing_starts):
    monkeypatch.setenv("LEAKWATCH_GRACE_PERIOD", "3")
    with pytest.raises(SettingsError):
        demo.run(ARGS)
    assert "LEAKWATCH_GRACE_PERIOD: not a leakwatch setting; did you mean LEAKWATCH_GRACE_PERIOD_S?" in (
        capsys.readouterr().err)


def test_the_spec_pipeline_gets_the_designs_average_check():
    env = demo.demo_environment(ARGS, {"PATH": "/bin"})
    assert env["LEAKWATCH_AVERAGE_CHECK_RUB"] == "Основная=40000"
    assert (spec_scenario.PIPELINE, spec_scenario.AVERAGE_CHECK_RUB) == ("Основная", 40_000)
    mine = demo.demo_environment(ARGS, {"LEAKWATCH_AVERAGE_CHECK_RUB": "B2B=120000"})
    assert mine["LEAKWATCH_AVERAGE_CHECK_RUB"] == "B2B=120000"  # the user's own stays


def test_a_child_that_failed_to_start_shows_its_log_on_the_terminal(tmp_path):
    log = tmp_path / "demo-sink.log"
    log.write_text("starting\n" + "".join(f"line {i}\n" for i in range(30)) + "OSError: [Errno 98] address in use\n")
    message = str(demo._failed("sink exited during start (1)", log).code)
    assert message.startswith(f"sink exited during start (1); the end of {log}:\n")
    assert message.endswith("  | OSError: [Errno 98] address in use") and "line 15" not in message
    assert str(demo._failed("worker exited (1)", tmp_path / "missing.log").code) == (
        f"worker exited (1); see {tmp_path / 'missing.log'}")

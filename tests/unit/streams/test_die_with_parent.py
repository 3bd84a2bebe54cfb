"""The supervisor's prctl is Linux-only: elsewhere it is a no-op, not an OSError for a
missing libc.so.6."""

from __future__ import annotations

import ctypes

from streams import cli


def test_no_prctl_outside_linux(monkeypatch):
    monkeypatch.setattr(cli.sys, "platform", "darwin")
    monkeypatch.setattr(ctypes, "CDLL", lambda *a, **kw: (_ for _ in ()).throw(AssertionError("libc loaded")))
    cli._die_with_parent()


def test_linux_asks_for_the_death_signal(monkeypatch):
    calls = []

    class Libc:
        def prctl(self, *args):
            calls.append(args)
            return 0

    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name, **kw: Libc() if name == "libc.so.6" else None)
    cli._die_with_parent()
    assert calls == [(1, cli.signal.SIGKILL)]  # PR_SET_PDEATHSIG

"""The dashboard and alert rules in the repository are what `leakwatch grafana build`
makes from leakwatch/cards/queries.py now: edit the SQL, then rebuild."""

from __future__ import annotations

import subprocess
import sys

import pytest

from leakwatch.grafana.files import generated
from leakwatch.settings import REPO_ROOT


@pytest.mark.parametrize("path", sorted(generated()), ids=lambda p: p.name)
def test_no_drift(path):
    assert path.read_text(encoding="utf-8") == generated()[path], (
        f"{path.relative_to(REPO_ROOT)} is stale: run `leakwatch grafana build`")


def test_the_script_checks_drift():
    check = subprocess.run([sys.executable, "-m", "leakwatch.cli", "grafana", "build", "--check"], cwd=REPO_ROOT,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr


def test_thresholds_change_only_the_rules():
    from leakwatch.grafana.alerts import Thresholds

    default, custom = generated(), generated(Thresholds(leak_factor=2.0, burst_per_hour=25))
    (dashboard, rules) = sorted(default, key=lambda p: p.suffix)  # .json, .yaml
    assert default[dashboard] == custom[dashboard] and default[rules] != custom[rules]
    assert "- 2.0\n" in custom[rules] and "- 25\n" in custom[rules]

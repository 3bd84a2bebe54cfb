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
    from leakwatch.domain.spikes import SpikeRules
    from leakwatch.grafana.files import DASHBOARD_FILE, PROMETHEUS_RULES_FILE, RULES_FILE

    default, custom = generated(), generated(SpikeRules(leak_factor=2.0, burst_per_hour=25, baseline_days=14))
    assert default[DASHBOARD_FILE] == custom[DASHBOARD_FILE]
    rules, prometheus = custom[RULES_FILE], custom[PROMETHEUS_RULES_FILE]
    assert rules != default[RULES_FILE] and prometheus != default[PROMETHEUS_RULES_FILE]
    assert "- 2.0\n" in rules and "- 25\n" in rules and "INTERVAL 14 DAY" in rules and "14 дней" in rules
    assert "> 2 * avg_over_time(" in prometheus and "[14d:1d]" in prometheus and "[28d:1d]" not in prometheus


def test_one_spike_rule_for_the_worker_grafana_and_prometheus():
    """The defaults written into the files are the worker's settings: nothing carries its own 1.5 or 28."""
    import yaml

    from leakwatch.grafana.files import PROMETHEUS_RULES_FILE, RULES_FILE
    from leakwatch.settings import Settings

    worker = Settings.model_construct()  # the defaults, whatever this shell's environment says
    grafana = {r["uid"]: r for g in yaml.safe_load(generated()[RULES_FILE])["groups"] for r in g["rules"]}

    def threshold(uid: str) -> float:
        return grafana[uid]["data"][-1]["model"]["conditions"][0]["evaluator"]["params"][0]

    assert threshold("leakwatch-leak-spike") == worker.spike_leak_factor
    assert threshold("leakwatch-salvageable-burst") == worker.spike_burst_per_hour
    spike_sql = grafana["leakwatch-leak-spike"]["data"][0]["model"]["rawSql"]
    assert f"INTERVAL {worker.baseline_days} DAY" in spike_sql
    (prometheus,) = [r for g in yaml.safe_load(generated()[PROMETHEUS_RULES_FILE])["groups"] for r in g["rules"]
                     if r["alert"] == "LeakwatchLeakSpike"]
    assert f"> {worker.spike_leak_factor:g} * avg_over_time(" in prometheus["expr"]
    assert f"[{worker.baseline_days}d:1d]" in prometheus["expr"]

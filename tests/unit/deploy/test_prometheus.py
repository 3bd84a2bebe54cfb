"""deploy/prometheus: every metric the rules use is one the worker exports (streams/metrics.py),
and the scrape reaches the worker's /metrics. (The expressions themselves were checked with
Prometheus's rule parser when written; no Prometheus runs here.)"""

from __future__ import annotations

import re

import yaml
from prometheus_client.metrics import MetricWrapperBase

from leakwatch.settings import REPO_ROOT, Settings
from services.sink import metrics as sink_metrics
from streams import metrics

PROMETHEUS = REPO_ROOT / "deploy" / "prometheus"
CONFIG = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
RULES = [r for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))["groups"] for r in g["rules"]]
SUFFIXES = {"counter": ("_total", "_created"), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum", "_created")}


def exported_series() -> set[str]:
    names = set()
    for collector in [*vars(metrics).values(), *vars(sink_metrics).values()]:
        if isinstance(collector, MetricWrapperBase):
            for family in collector.describe():
                names |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return names


def test_every_metric_in_the_rules_is_exported():
    exported = exported_series()
    for rule in RULES:
        used = set(re.findall(r"\b(leakwatch_\w+)", rule["expr"]))
        assert used, rule["alert"]
        assert used <= exported, f"{rule['alert']}: {used - exported} not in streams/ or services/sink/metrics.py"


def test_the_alerts_the_ops_team_needs():
    by_metric = {m: rule["alert"] for rule in RULES for m in re.findall(r"\b(leakwatch_\w+)", rule["expr"])}
    for needed in ("leakwatch_consumer_lag", "leakwatch_classifier_errors_total", "leakwatch_dead_letters_total",
                   "leakwatch_leak_today_rub"):
        assert needed in by_metric, needed
    for rule in RULES:
        assert rule["for"] and rule["labels"]["severity"] and rule["annotations"]["summary"]


def test_scrapes_the_workers_and_the_sinks_metrics_and_loads_the_rules():
    worker, sink = CONFIG["scrape_configs"]
    for job, target in ((worker, f"worker:{Settings.model_fields['worker_web_port'].default}"),
                        (sink, f"sink:{Settings.model_fields['sink_web_port'].default}")):
        assert job["metrics_path"] == "/metrics"
        (targets,) = job["static_configs"]
        assert targets["targets"] == [target]
    assert CONFIG["rule_files"] == ["/etc/prometheus/alerts.yml"]  # docker-compose mounts deploy/prometheus there


def test_the_lag_gauge_is_fed():
    # A gauge nothing sets would leave the lag alert silent forever.
    source = (REPO_ROOT / "streams" / "web.py").read_text()
    assert "CONSUMER_LAG.labels(" in source

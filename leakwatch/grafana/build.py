"""`leakwatch grafana build`: write the «Где теряются деньги» dashboard and its alert rules
(grafana/dashboards/leakwatch.json, grafana/provisioning/alerting/rules.yaml) from the
cards' SQL in leakwatch/cards/queries.py, and Prometheus's deploy/prometheus/alerts.yml
with the same spike rule (leakwatch/domain/spikes.py). Edit the SQL or the rule, then run this.

    leakwatch grafana build            # rewrite the provisioned files
    leakwatch grafana build --check    # exit 1 if the files differ from the SQL
"""

from __future__ import annotations

import argparse
import sys

from leakwatch.grafana.alerts import add_threshold_arguments, rules_from_arguments
from leakwatch.grafana.files import generated


def add_parser(actions) -> None:
    build = actions.add_parser("build", help="regenerate the provisioned dashboard and alert rules",
                               description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    add_threshold_arguments(build)
    build.set_defaults(func=run)


def run(args) -> int:
    files = generated(rules_from_arguments(args))
    stale = [path for path, text in files.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[path], encoding="utf-8")
        print(f"wrote {path}")
    return 0

"""Write the «Где теряются деньги» dashboard and its alert rules from the cards' SQL.

    python grafana/build_dashboard.py            # rewrite grafana/dashboards/leakwatch.json and
                                                 # grafana/provisioning/alerting/rules.yaml
    python grafana/build_dashboard.py --check    # exit 1 if the files differ from the SQL
    python grafana/build_dashboard.py --leak-factor 2 --burst-per-hour 15

The panels' SQL is leakwatch/cards/queries.py verbatim; edit the SQL there, then run this.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, installed or not

from leakwatch.grafana.alerts import Thresholds  # noqa: E402
from leakwatch.grafana.files import generated  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    defaults = Thresholds()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 on drift")
    parser.add_argument("--leak-factor", type=float, default=defaults.leak_factor,
                        help="alert when the last 24 h leak exceeds this × the average day (default %(default)s)")
    parser.add_argument("--burst-per-hour", type=int, default=defaults.burst_per_hour,
                        help="alert when more salvageable refusals were lost in an hour (default %(default)s)")
    args = parser.parse_args(argv)
    files = generated(Thresholds(args.leak_factor, args.burst_per_hour))
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


if __name__ == "__main__":
    raise SystemExit(main())

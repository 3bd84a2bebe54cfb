"""`leakwatch grafana build|push`: the board and alert rules as provisioned files, or
pushed to a running Grafana."""

from __future__ import annotations

from leakwatch.grafana import build, push


def register(sub) -> None:
    grafana = sub.add_parser("grafana", help="Grafana: build the provisioned board and rules, or push them")
    actions = grafana.add_subparsers(dest="grafana_command", required=True)
    build.add_parser(actions)
    push.add_parser(actions)

"""Grafana artefacts built from the cards' SQL (leakwatch/cards/queries.py): the
«Где теряются деньги» dashboard and the alert rules. `leakwatch grafana build` writes
them for file provisioning; `leakwatch grafana push` sends them to a running Grafana.

The names below are shared by the provisioning files under grafana/provisioning/, the
builders and the tests, so a panel and its datasource cannot drift apart.
"""

CLICKHOUSE_TYPE = "grafana-clickhouse-datasource"
CLICKHOUSE_UID = "leakwatch-clickhouse"
PROMETHEUS_UID = "leakwatch-prometheus"
EXPRESSION_UID = "__expr__"  # Grafana's server-side expressions (reduce, threshold)

DASHBOARD_UID = "leakwatch-money-leaks"
DASHBOARD_TITLE = "Где теряются деньги"
FOLDER_TITLE = "Leakwatch"
RULE_GROUP = "leakwatch"

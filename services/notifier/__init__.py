"""Alerts to people: `alerts.leak_spikes` from Kafka and Grafana's alerting webhook, posted
to a generic webhook, Telegram and Slack with retries; a target that keeps failing gets a
dead letter instead. At least once, and not twice even across a restart: what each target
got is kept on disk by alert id (ledger.py)."""

"""All settings in one typed object, read from the environment (prefix LEAKWATCH_) at start.

A wrong value stops the process with a message naming the setting and why
(`load_settings()`); secrets (API keys, ClickHouse password) come only from the environment.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
import orjson
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from schemas.labels import Reason

REPO_ROOT = Path(__file__).resolve().parent.parent


def parse_rub_map(raw: object) -> object:
    """Accept `b2b=120000,retail=40000` as well as a JSON object or a dict."""
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            return {}
        if raw.startswith("{"):
            return orjson.loads(raw)
        pairs = {}
        for item in raw.split(","):
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"expected pipeline=amount pairs, got {item!r}")
            pairs[name.strip()] = value.strip()
        return pairs
    return raw


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEAKWATCH_", extra="ignore")

    # Kafka
    kafka_bootstrap: str = "127.0.0.1:19092"
    topic_partitions: int = Field(4, ge=1, le=256)
    topic_replication: int = Field(1, ge=1)
    app_id: str = Field("leakwatch", pattern=r"^[A-Za-z0-9._-]+$")
    # Prepended to every topic name: several environments (or test runs) on one cluster.
    topic_prefix: str = Field("", pattern=r"^[A-Za-z0-9._-]*$")

    # ClickHouse: embedded chdb at `chdb_path` unless `clickhouse_url` is set.
    clickhouse_url: str | None = Field(None, validation_alias="CLICKHOUSE_URL")
    clickhouse_user: str = Field("default", validation_alias="CLICKHOUSE_USER")
    clickhouse_password: SecretStr = Field(SecretStr(""), validation_alias="CLICKHOUSE_PASSWORD")
    clickhouse_database: str = "leakwatch"
    chdb_path: Path = REPO_ROOT / ".local" / "chdb"
    sink_batch_rows: int = Field(1000, ge=1)
    sink_batch_seconds: float = Field(1.0, gt=0, le=60)

    # Refusals
    grace_period_s: float = Field(60.0, ge=0, le=86400)
    # Per pipeline, e.g. `b2b=120000,retail=40000`; others use won deals' mean, then the default.
    average_check_rub: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    default_average_check_rub: int = Field(40000, gt=0)
    classifier_engine: Literal["embedded", "openai"] = "embedded"
    # BLAS threads of the embedded encoder inside the worker. One: the worker's event loop,
    # the broker and the sink share the cores, and OpenBLAS's extra threads spin-wait for a
    # core (at 300 events/s on 2 cores: 0.69 -> 0.40 of a core for the same work, 149 -> 99
    # ms per refusal; README, Benchmarks). Raise it on a machine with cores to spare.
    classifier_blas_threads: int = Field(1, ge=1, le=256)
    # Deadlines, from the inside out: one HTTP attempt to the LLM (openai_request_timeout_s);
    # one item with all its retries (then the embedded engine answers it, marked
    # `fallback_from`); one batch of the refusal agent (then the batch is retried with
    # backoff, never acked undone).
    classifier_item_deadline_s: float = Field(120.0, gt=0)
    classifier_batch_deadline_s: float = Field(600.0, gt=0)
    # A refusal request that still fails after this many attempts goes to the dead-letter
    # topic with the reason; each retry waits longer (doubling from refusal_retry_backoff_s).
    refusal_max_attempts: int = Field(5, ge=1, le=100)
    # Due requests classified and published per batch. A batch holds the commits of its
    # partitions until all of it is published: after a takeover the whole backlog is due at
    # once, and one batch of the sink's 1,000 rows took minutes of embedded classification on
    # a loaded machine (the commit-stall alarm, issue #12); 50 keeps each hold to seconds.
    refusal_batch_rows: int = Field(50, ge=1, le=10_000)
    refusal_retry_backoff_s: float = Field(1.0, gt=0, le=60)
    refusal_retry_backoff_max_s: float = Field(30.0, gt=0, le=600)
    # Deal state kept bounded: at most this many timeline messages per deal; texts of a
    # classified closed deal are dropped after the grace period; a deal closed longer than
    # the retention is evicted from the table.
    deal_timeline_cap: int = Field(200, ge=10, le=100000)
    deal_retention_days: float = Field(90.0, gt=0)
    # An AI verdict on a target refusal less sure than this is flagged for a QA lead first.
    review_below_confidence: float = Field(0.6, ge=0.0, le=1.0)
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_api_key: SecretStr | None = None
    openai_concurrency: int = Field(4, ge=1, le=256)
    openai_max_retries: int = Field(2, ge=0, le=10)  # the SDK's own retries (429/5xx/timeouts)
    # One HTTP attempt to the LLM; inside the per-item deadline below.
    openai_request_timeout_s: float = Field(30.0, gt=0, le=600)
    # How long a server that failed json_schema starts requests at json_object; 0: never remember.
    openai_format_memory_s: float = Field(300.0, ge=0, le=86400)
    openai_max_tokens: int | None = Field(None, ge=16)  # sent as max_tokens when set
    timezone: str = "Europe/Moscow"  # where "today" starts for the boards
    baseline_days: int = Field(28, ge=1, le=365)

    # Spike alerts (alerts.leak_spikes), checked by the sink
    spike_leak_factor: float = Field(1.5, gt=1.0)  # leak of the last 24 h vs the average day
    spike_burst_per_hour: int = Field(10, ge=1)  # salvageable refusals in the last hour
    spike_check_interval_s: float = Field(60.0, ge=1.0)

    # Worker process
    worker_web_host: str = "127.0.0.1"
    worker_web_port: int = Field(6066, ge=1, le=65535)
    worker_data_dir: Path = REPO_ROOT / ".local" / "faust"
    # Where the deal-state table lives: rocksdb:// keeps it under worker_data_dir (one
    # worker per dir, streams/datadir.py) and replays only the changelog past what it
    # stored; memory:// rebuilds it from the whole changelog at every start, which grows
    # with every deal ever seen (benchmarks/recovery.py measures both).
    table_store: str = Field("rocksdb://", pattern=r"^(memory|rocksdb)://$")
    broker_session_timeout_s: float = Field(30.0, gt=0)
    broker_heartbeat_interval_s: float = Field(3.0, gt=0)
    # aiokafka's max.poll.interval: a consumer that does not poll for this long leaves the
    # group, and Faust 0.15 then never rejoins (its fetcher waits for a flow that only a new
    # assignment resumes). Faust's default; slow classifiers never hold the fetcher up.
    broker_max_poll_interval_s: float = Field(1000.0, gt=0)
    # Start-up against a fresh or restarting broker: retry coordinator/metadata errors this long.
    startup_deadline_s: float = Field(60.0, gt=0)

    # The sink (`leakwatch sink`): refusals.classified and won deals -> ClickHouse; it owns
    # embedded chdb and serves the boards' reads. The worker asks it for won deals' means.
    sink_web_host: str = "127.0.0.1"
    sink_web_port: int = Field(6067, ge=1, le=65535)
    sink_url: str = "http://127.0.0.1:6067"
    sink_retry_backoff_s: float = Field(1.0, gt=0, le=60)
    sink_retry_backoff_max_s: float = Field(30.0, gt=0, le=600)

    @field_validator("average_check_rub", mode="before")
    @classmethod
    def _rub_map(cls, raw: object) -> object:
        return parse_rub_map(raw)

    @field_validator("average_check_rub")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        for pipeline, amount in value.items():
            if amount <= 0:
                raise ValueError(f"average check of pipeline {pipeline!r} must be > 0")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Europe/Moscow)") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, value: str) -> str:
        if "://" in value:  # librdkafka would look up a host named "kafka://…"
            raise ValueError(f"expected host:port[,host:port] without a scheme, got {value!r}")
        for server in value.split(","):
            host, sep, port = server.strip().rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port], got {value!r}")
        return value

    @model_validator(mode="after")
    def _engine_ready(self) -> "Settings":
        if self.classifier_engine == "openai":
            missing = [name for name in ("openai_base_url", "openai_model") if not getattr(self, name)]
            if missing:
                names = ", ".join(f"LEAKWATCH_{m.upper()}" for m in missing)
                raise ValueError(f"LEAKWATCH_CLASSIFIER_ENGINE=openai needs {names}")
        if self.classifier_item_deadline_s > self.classifier_batch_deadline_s:
            raise ValueError("LEAKWATCH_CLASSIFIER_ITEM_DEADLINE_S must not exceed LEAKWATCH_CLASSIFIER_BATCH_DEADLINE_S")
        if self.broker_heartbeat_interval_s >= self.broker_session_timeout_s:
            raise ValueError("LEAKWATCH_BROKER_HEARTBEAT_INTERVAL_S must be below the session timeout")
        return self

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def kafka_url(self) -> str:
        """Faust wants kafka:// URLs."""
        return ";".join(f"kafka://{s.strip()}" for s in self.kafka_bootstrap.split(","))

    # ------------------------------------------------------------------------------------
    # services/ingest and services/notifier (added with those services; self-contained block)
    # ------------------------------------------------------------------------------------
    # Ingest: the webhook gateway. A source without a token rejects every request (401).
    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(8088, ge=1, le=65535)
    # Each secret opens its own source only (services/ingest/auth.py says how each is checked).
    ingest_amocrm_token: SecretStr | None = None  # in the hook URL: ?token=
    ingest_bitrix24_app_token: SecretStr | None = None  # Bitrix24's auth[application_token]
    ingest_mango_api_key: SecretStr | None = None  # vpbx_api_key
    ingest_mango_api_salt: SecretStr | None = None  # vpbx_api_salt: sign = sha256(key + json + salt)
    ingest_zadarma_secret: SecretStr | None = None  # the API secret: Signature = base64(hex HMAC-SHA1)
    ingest_zadarma_timezone: str | None = None  # the PBX's time zone (call_start is local); default: timezone
    ingest_telephony_token: SecretStr | None = None
    ingest_events_token: SecretStr | None = None  # the canonical /v1/events/{topic} endpoints
    ingest_reviews_token: SecretStr | None = None  # refusals.reviewed only: a review overrides the AI
    # Client phones leave the gateway only as HMAC-SHA256(salt, digits); required for telephony.
    phone_hash_salt: SecretStr | None = None
    # Raw vendor bodies (phones, transcripts) that could not be used: a private topic, kept briefly.
    ingest_deadletter_retention_h: float | None = Field(None, gt=0, le=24 * 90)  # default: schemas/topics.py
    public_evidence: bool = True  # false: refusals.classified carries no evidence quote
    # Vendor REST lookups: amoCRM's loss reason, Bitrix24's deal and call records.
    ingest_amocrm_api_url: str | None = None  # https://<subdomain>.amocrm.ru
    ingest_amocrm_api_token: SecretStr | None = None  # a long-lived token of an integration
    ingest_rest_max_attempts: int = Field(3, ge=1, le=10)
    ingest_rest_per_second: float = Field(2.0, gt=0, le=50)  # amoCRM allows 7/s, Bitrix24 2/s
    ingest_retry_interval_s: float = Field(30.0, gt=0, le=3600)  # webhooks whose lookup failed
    # Vendor ids -> names: a JSON object, or a path to a JSON file. Sections and their maps
    # are in services/ingest/vendor_maps.py; unset keys keep the defaults there.
    ingest_mapping: Annotated[dict[str, dict[str, dict[str, str]]], NoDecode] = Field(default_factory=dict)
    # Bitrix24 inbound webhook (https://portal.bitrix24.ru/rest/<user>/<key>/) for crm.deal.get and
    # voximplant.statistic.get: outbound events carry only ids. It embeds a key, hence secret.
    ingest_bitrix24_webhook_url: SecretStr | None = None
    ingest_ack_timeout_s: float = Field(10.0, gt=0, le=300)  # Kafka ack wait before a 503

    # Transcribe (`leakwatch transcribe`): calls with a recording URL and no transcript.
    transcribe_engine: Literal["embedded", "openai"] = "embedded"
    transcribe_base_url: str | None = None  # an OpenAI-compatible server's /v1
    transcribe_model: str = "whisper-1"
    transcribe_api_key: SecretStr | None = None
    whisper_model_dir: Path | None = None  # a CTranslate2 Whisper model; default: the packaged base
    transcribe_language: str = Field("ru", pattern=r"^[a-z]{2}$")
    transcribe_manager_channel: int = Field(0, ge=0, le=1)  # which stereo channel is the employee
    transcribe_max_recording_mb: float = Field(200.0, gt=0, le=2000)

    # Notifier: alerts.leak_spikes and Grafana's webhook -> webhook / Telegram / Slack.
    notifier_host: str = "127.0.0.1"
    notifier_port: int = Field(8089, ge=1, le=65535)
    notifier_webhook_url: SecretStr | None = None
    notifier_telegram_bot_token: SecretStr | None = None
    notifier_telegram_chat_id: str | None = None
    notifier_telegram_api_url: str = "https://api.telegram.org"
    notifier_slack_webhook_url: SecretStr | None = None
    notifier_grafana_token: SecretStr | None = None  # unset: POST /grafana answers 401
    notifier_max_attempts: int = Field(5, ge=1, le=20)
    notifier_backoff_s: float = Field(1.0, ge=0, le=60)  # doubles per attempt, capped at 30 s
    notifier_timeout_s: float = Field(10.0, gt=0, le=120)
    notifier_max_alert_age_s: float = Field(86400.0, gt=0)  # older alerts are skipped, not posted
    # Which alerts each target already has, so a restart posts none twice (a volume in compose).
    notifier_state_path: Path = REPO_ROOT / ".local" / "notifier" / "delivered.sqlite"

    # ------------------------------------------------------------------------------------
    # services/reactivation and `leakwatch import` (self-contained block)
    # ------------------------------------------------------------------------------------
    # The recontact task in the CRM for each deal that goes on the «Воронка отказов»: none,
    # amocrm (POST /api/v4/tasks) or bitrix24 (tasks.task.add), with the REST credentials
    # ingest uses (LEAKWATCH_INGEST_AMOCRM_API_URL + _API_TOKEN, LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL
    # with the `task` scope added); `leakwatch import` reads history with the same ones.
    reactivation_crm: Literal["none", "amocrm", "bitrix24"] = "none"
    reactivation_task_type_id: int = Field(1, ge=1)  # amoCRM: 1 Звонок, 2 Встреча
    reactivation_default_user_id: int | None = Field(None, ge=1)  # when the manager has no CRM id
    reactivation_crm_max_attempts: int = Field(4, ge=1, le=20)
    reactivation_crm_backoff_s: float = Field(1.0, ge=0, le=60)  # doubles per attempt
    reactivation_crm_timeout_s: float = Field(10.0, gt=0, le=120)
    # `leakwatch import`: requests per second (amoCRM allows 7, Bitrix24 2).
    import_amocrm_rps: float = Field(7.0, gt=0, le=50)
    import_bitrix24_rps: float = Field(2.0, gt=0, le=50)
    import_state_dir: Path = REPO_ROOT / ".local" / "import"  # checkpoints and spooled pages
    import_max_attempts: int = Field(6, ge=1, le=20)  # per request, on outages and rate-limit answers
    import_backoff_s: float = Field(1.0, ge=0, le=60)  # doubles per attempt, capped at 30 s

    @field_validator("ingest_mapping", mode="before")
    @classmethod
    def _mapping_json(cls, raw: object) -> object:
        if isinstance(raw, str):
            raw = raw.strip()
            if not raw:
                return {}
            if not raw.startswith("{"):
                path = Path(raw).expanduser()
                if not path.is_file():
                    raise ValueError(f"expected a JSON object or a path to a JSON file, got {raw!r}")
                raw = path.read_text(encoding="utf-8")
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"not valid JSON: {exc}") from None
        return raw

    @field_validator("ingest_zadarma_timezone")
    @classmethod
    def _pbx_tz(cls, value: str | None) -> str | None:
        return None if value is None else cls._tz(value)

    @model_validator(mode="after")
    def _ingest_pairs(self) -> "Settings":
        if self.transcribe_engine == "openai" and not self.transcribe_base_url:
            raise ValueError("LEAKWATCH_TRANSCRIBE_ENGINE=openai needs LEAKWATCH_TRANSCRIBE_BASE_URL")
        if (self.ingest_mango_api_key is None) != (self.ingest_mango_api_salt is None):
            raise ValueError("LEAKWATCH_INGEST_MANGO_API_KEY and LEAKWATCH_INGEST_MANGO_API_SALT go together")
        if (self.ingest_amocrm_api_url is None) != (self.ingest_amocrm_api_token is None):
            raise ValueError("LEAKWATCH_INGEST_AMOCRM_API_URL and LEAKWATCH_INGEST_AMOCRM_API_TOKEN go together")
        return self

    @model_validator(mode="after")
    def _crm_ready(self) -> "Settings":
        if self.reactivation_crm == "amocrm" and not (self.ingest_amocrm_api_url and self.ingest_amocrm_api_token):
            raise ValueError("LEAKWATCH_REACTIVATION_CRM=amocrm needs LEAKWATCH_INGEST_AMOCRM_API_URL and "
                             "LEAKWATCH_INGEST_AMOCRM_API_TOKEN")
        if self.reactivation_crm == "bitrix24" and not self.ingest_bitrix24_webhook_url:
            raise ValueError("LEAKWATCH_REACTIVATION_CRM=bitrix24 needs LEAKWATCH_INGEST_BITRIX24_WEBHOOK_URL")
        return self

    @model_validator(mode="after")
    def _telegram_pair(self) -> "Settings":
        if (self.notifier_telegram_bot_token is None) != (self.notifier_telegram_chat_id is None):
            raise ValueError("LEAKWATCH_NOTIFIER_TELEGRAM_BOT_TOKEN and LEAKWATCH_NOTIFIER_TELEGRAM_CHAT_ID "
                             "go together (set both or neither)")
        return self

    # ------------------------------------------------------------------------------------
    # The web board and its review queue (leakwatch/web; self-contained block)
    # ------------------------------------------------------------------------------------
    # The sink serves the board on its own address (LEAKWATCH_SINK_WEB_HOST / _PORT).
    # Read-only views are open on a loopback address only; reviews always need the token
    # (Bearer, basic auth with it as the password, or the board's login form). Without a
    # token the sink refuses to bind to a non-loopback address.
    web_token: SecretStr | None = None
    label_language: Literal["ru", "en"] = "ru"  # the board's texts; label values on the wire stay Russian
    web_refresh_s: float = Field(5.0, ge=0.5, le=3600)  # live refresh of the cards
    # QA review from the CRM (leakwatch/domain/reviews.py: review_from_crm_move): moving a
    # deal from a review stage to a closed-lost stage confirms the verdict; a changed
    # loss-reason field corrects the reason. Stages: names or ids, comma-separated.
    crm_review_stages: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["Условный отказ"])
    crm_closed_lost_stages: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["143", "LOSE", "Закрыто и не реализовано"])  # amoCRM's 143, Bitrix24's LOSE
    # The loss-reason field per vendor, e.g. `amocrm=loss_reason_id,bitrix24=UF_CRM_LOSS_REASON`.
    crm_loss_reason_field: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict)
    # Its values (enum ids) → reasons, e.g. `501=Дорого,502=Поздно связались`; a value that is
    # a reason's text needs no entry.
    crm_loss_reason_values: Annotated[dict[str, Reason], NoDecode] = Field(default_factory=dict)

    @field_validator("crm_review_stages", "crm_closed_lost_stages", mode="before")
    @classmethod
    def _comma_list(cls, raw: object) -> object:
        if isinstance(raw, str):
            return [item.strip() for item in raw.split(",") if item.strip()]
        return raw

    @field_validator("crm_loss_reason_field", "crm_loss_reason_values", mode="before")
    @classmethod
    def _pairs(cls, raw: object) -> object:
        if isinstance(raw, str) and raw.strip() and not raw.strip().startswith("{"):
            bad = [item for item in raw.split(",") if "=" not in item or not item.partition("=")[0].strip()]
            if bad:
                raise ValueError(f"expected key=value pairs separated by commas, got {bad[0]!r}")
        return parse_rub_map(raw)  # the same `key=value,…` or JSON syntax

    @field_validator("crm_loss_reason_field")
    @classmethod
    def _reason_fields(cls, fields: dict[str, str]) -> dict[str, str]:
        for vendor, name in fields.items():
            if vendor == "amocrm":
                if name not in ("loss_reason", "loss_reason_id"):  # what ?with=loss_reason returns
                    raise ValueError(f"amocrm={name}: amoCRM's loss reason is its built-in field "
                                     "(amocrm=loss_reason_id); custom fields are not read")
            elif vendor == "bitrix24":
                if not re.fullmatch(r"UF_CRM_\w+", name):
                    raise ValueError(f"bitrix24={name}: expected the deal's user field id, e.g. UF_CRM_LOSS_REASON")
            else:
                raise ValueError(f"{vendor}: expected amocrm or bitrix24")
        return fields

    @model_validator(mode="after")
    def _review_stages(self) -> "Settings":
        both = sorted(set(self.crm_review_stages) & set(self.crm_closed_lost_stages))
        if both:
            raise ValueError(f"LEAKWATCH_CRM_REVIEW_STAGES and LEAKWATCH_CRM_CLOSED_LOST_STAGES both name "
                             f"{', '.join(both)}: a stage is either «Условный отказ» or closed-lost")
        return self


def env_name(loc: tuple) -> str:
    field = str(loc[0]) if loc else "?"
    info = Settings.model_fields.get(field)
    if info is not None and isinstance(info.validation_alias, str):
        return info.validation_alias
    return f"LEAKWATCH_{field.upper()}"


class SettingsError(SystemExit):
    """Raised at start when a setting is wrong; the message names the setting."""


# LEAKWATCH_* variables that are not settings of a leakwatch process: deploy/local/kafka.sh's
# state folder, Grafana's alert webhook (grafana/provisioning), the test suite's switches.
OTHER_VARIABLES = frozenset({"LEAKWATCH_STATE_DIR", "LEAKWATCH_ALERT_WEBHOOK_URL", "LEAKWATCH_TEST_KAFKA_PORT",
                             "LEAKWATCH_LLM_SERVER_TESTS", "LEAKWATCH_SCREENSHOT_DIR"})


def known_variables() -> frozenset[str]:
    return frozenset({env_name((name,)) for name in Settings.model_fields if env_name((name,)).startswith("LEAKWATCH_")}
                     | OTHER_VARIABLES)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line per LEAKWATCH_* variable that nothing reads, with the closest known name.
    They stop the process rather than warn: a misspelled LEAKWATCH_PUBLIC_EVIDENCE=false
    would otherwise publish the clients' words, a misspelled token or time zone silently
    run on the default, and a warning scrolls away in a service's log."""
    known = known_variables()
    lines = []
    for name in sorted(environ):
        upper = name.upper()  # pydantic-settings reads names case-insensitively
        if upper.startswith("LEAKWATCH_") and upper not in known:
            # Compared without the shared prefix, which would make every name look close.
            close = difflib.get_close_matches(upper[10:], sorted(k[10:] for k in known), n=1, cutoff=0.6)
            hint = f"did you mean LEAKWATCH_{close[0]}?" if close else "no setting has a similar name (see leakwatch/settings.py)"
            lines.append(f"  {name}: not a leakwatch setting; {hint}")
    return lines


def load_settings(**overrides: object) -> Settings:
    if unknown := unknown_variables(os.environ):
        print("leakwatch: unknown settings\n" + "\n".join(unknown), file=sys.stderr)
        raise SettingsError(2)
    try:
        return Settings(**overrides)
    except SourceError as exc:  # a value the env source could not even parse
        print(f"leakwatch: invalid settings\n  {exc}", file=sys.stderr)
        raise SettingsError(2) from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = env_name(err["loc"]) if err["loc"] else "settings"
            lines.append(f"  {name}: {err['msg']}")
        message = "leakwatch: invalid settings\n" + "\n".join(lines)
        print(message, file=sys.stderr)
        raise SettingsError(2) from None

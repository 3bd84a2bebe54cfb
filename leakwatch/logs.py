"""One logging set-up for every leakwatch process. Logs carry ids, never transcript text."""

from __future__ import annotations

import logging
import time


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs request URLs, and Bitrix24's REST URL and Telegram's embed their keys.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The worker's aiokafka says every failed reconnect (several a second per node while a
    # broker restarts); once a minute per kind of failure tells the same. A logger's filter
    # does not see its children's records, hence each module's logger.
    for name in AIOKAFKA_LOGGERS:
        logging.getLogger(name).addFilter(RepeatsQuieted())


AIOKAFKA_LOGGERS = ("aiokafka.client", "aiokafka.conn", "aiokafka.consumer.group_coordinator",
                    "aiokafka.consumer.fetcher", "aiokafka.producer.sender")


class RepeatsQuieted(logging.Filter):
    """Passes a record whose message template was not passed within `every_s`; a passed
    record says how many like it were held back since the last one."""

    def __init__(self, every_s: float = 60.0, clock=time.monotonic):
        super().__init__()
        self.every_s, self.clock = every_s, clock
        self._last: dict[str, tuple[float, int]] = {}  # template → (passed at, held back since)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now, key = self.clock(), str(record.msg)
        seen = self._last.get(key)
        if seen is not None and now - seen[0] < self.every_s:
            self._last[key] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} (and {seen[1]} more like it in the last {now - seen[0]:.0f} s)"
        self._last[key] = (now, 0)
        return True


# librdkafka's errors that mean "no broker answers": said once per client, not
# once per reconnect attempt (librdkafka retries every few hundred milliseconds).
BROKERS_DOWN = {"_ALL_BROKERS_DOWN", "_TRANSPORT", "_RESOLVE"}


class KafkaClientLog:
    """librdkafka's log lines and errors for one confluent-kafka client, as its `logger` and
    `error_cb`. Without them librdkafka prints every failed connection to stderr from C
    («%3|…|FAIL|… Connection refused»), several times a second while Kafka is down; here
    they become one warning naming LEAKWATCH_KAFKA_BOOTSTRAP, and its other lines go
    through Python logging (`leakwatch.kafka`)."""

    def __init__(self, bootstrap: str, *, down_level: int = logging.WARNING):
        self.bootstrap, self.down_level = bootstrap, down_level
        self.down: str | None = None  # the last "no broker answers" reason, until one answers
        self._log = logging.getLogger("leakwatch.kafka")

    def config(self) -> dict:
        return {"logger": self, "error_cb": self.error}

    def log(self, level: int, msg: str, *args) -> None:  # librdkafka: logger.log(level, fmt, fac, name, text)
        facility = str(args[0]) if args else ""
        if facility == "FAIL":  # connection failures: error_cb says them once
            return
        self._log.log(level, msg, *args)

    def error(self, err) -> None:
        if err.name() in BROKERS_DOWN:
            if self.down is None:
                self._log.log(self.down_level, "Kafka at %s (LEAKWATCH_KAFKA_BOOTSTRAP) does not answer: %s; "
                              "retrying", self.bootstrap, err.str())
            self.down = err.str()
            return
        self._log.warning("Kafka: %s", err.str())


def kafka_config(bootstrap: str, *, down_level: int = logging.WARNING, **config) -> dict:
    """A confluent-kafka client's config with `bootstrap.servers` and quiet, once-said errors
    (`down_level=logging.DEBUG` where the caller reports an unreachable Kafka itself)."""
    return {"bootstrap.servers": bootstrap, **KafkaClientLog(bootstrap, down_level=down_level).config(), **config}

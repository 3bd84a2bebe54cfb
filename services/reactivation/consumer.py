"""refusals.classified -> refusals.reactivation with confluent-kafka. At least once, in
order per deal: a batch's entries (and dead letters) are acknowledged by Kafka before its
offsets are committed; a failed delivery rewinds the batch.

Which deals are on the list is read back from refusals.reactivation itself (compacted:
the newest entry per deal) whenever partitions are assigned, so a restart or a rebalance
neither repeats an entry nor forgets to withdraw one, and a CRM task is created once per
listing (an entry carries its task's id forward).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import orjson
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from leakwatch.domain.reactivation import decide
from leakwatch.errors import StartupError
from leakwatch.logs import kafka_config
from leakwatch.settings import Settings
from schemas.decoding import decode, payload_text
from schemas.events import ClassifiedRefusal, DeadLetter
from schemas.reactivation import ReactivationEntry
from schemas.topics import CLASSIFIED, DEADLETTER, REACTIVATION
from services.batch_consumer import BatchConsumer, group_config
from services.kafka_out import DeliveryFailed, EventProducer
from services.reactivation.crm_tasks import TaskWriter, create_with_retries

log = logging.getLogger("leakwatch.reactivation")


@dataclass(frozen=True)
class Listed:
    version: int
    active: bool
    crm_task: str | None


def newest_entries(settings: Settings, timeout_s: float = 60.0) -> dict[str, ReactivationEntry]:
    """The newest entry per deal on refusals.reactivation, read to the current end."""
    topic = settings.topic(REACTIVATION.name)
    reader = Consumer(kafka_config(settings.kafka_bootstrap, down_level=logging.DEBUG,  # said below, once
                                   **{"group.id": f"reactivation-read-{uuid.uuid4().hex}", "enable.auto.commit": False}))
    newest: dict[str, ReactivationEntry] = {}
    try:
        try:
            metadata = reader.list_topics(topic, timeout=10).topics[topic]
        except KafkaException as exc:
            raise StartupError(f"LEAKWATCH_KAFKA_BOOTSTRAP={settings.kafka_bootstrap}: no Kafka broker answered "
                               f"within 10 s ({exc.args[0].str() if exc.args else exc}); is Kafka running there?"
                               ) from None
        if metadata.error is not None:
            raise StartupError(f"topic {topic}: {metadata.error.str()}")
        ends = {p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in metadata.partitions}
        pending = {p for p, end in ends.items() if end > 0}
        reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in pending])
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: not read to its end in {timeout_s}s")
            msg = reader.poll(0.5)
            if msg is None or msg.error():
                continue
            if msg.offset() + 1 >= ends[msg.partition()]:
                pending.discard(msg.partition())
            try:
                entry = ReactivationEntry.model_validate_json(msg.value())
            except ValueError:
                log.warning("%s[%d]@%d is not a v1 entry: skipped", topic, msg.partition(), msg.offset())
                continue
            seen = newest.get(entry.deal_id)
            if seen is None or entry.version >= seen.version:
                newest[entry.deal_id] = entry
    finally:
        reader.close()
    return newest


def read_listing(settings: Settings) -> dict[str, Listed]:
    return {deal: Listed(e.version, e.active, e.crm_task) for deal, e in newest_entries(settings).items()}


def batch_size(has_writer: bool) -> int:
    return 20 if has_writer else 500


def consumer_config(settings: Settings, has_writer: bool) -> dict:
    worst_s = settings.reactivation_crm_max_attempts * (settings.reactivation_crm_timeout_s + 30) if has_writer else 0
    # A batch waits for the CRM's retries; the poll interval must outlast the worst one.
    return group_config(settings, "reactivation", max_poll_interval_s=300 + worst_s * batch_size(has_writer))


class ReactivationService(BatchConsumer):
    def __init__(self, settings: Settings, producer: EventProducer, writer: TaskWriter | None,
                 stop: threading.Event):
        super().__init__(consumer_config(settings, writer is not None), stop)
        self._settings, self._producer, self._writer = settings, producer, writer
        self.topics = [settings.topic(CLASSIFIED.name)]
        self.batch_size = batch_size(writer is not None)
        self.listing: dict[str, Listed] = {}
        self.handled = 0

    def on_assign(self, consumer, partitions) -> None:
        self.listing = read_listing(self._settings)
        log.info("assigned %d partitions; %d deals listed, %d active", len(partitions), len(self.listing),
                 sum(1 for v in self.listing.values() if v.active))

    def store_batch(self, messages) -> bool:
        """Publish the batch's entries; durable once Kafka acked them (then the list is updated)."""
        listing = dict(self.listing)
        try:
            for msg in messages:
                self.handle(msg.value(), msg.key(), msg.partition(), msg.offset(), listing)
            self._producer.flush()
        except DeliveryFailed:
            log.exception("batch not delivered; reading it again")
            self.rewind(messages)
            self._stop.wait(1.0)
            return False
        self.listing = listing
        self.handled += len(messages)
        return True

    def _dead_letter(self, letter: DeadLetter) -> None:
        key = letter.key.encode() if letter.key else None
        self._producer.send_raw(DEADLETTER.name, key, letter.model_dump_json().encode())

    def handle(self, raw: bytes | None, key: bytes | None, partition: int, offset: int,
               listing: dict[str, Listed]) -> ReactivationEntry | None:
        """One refusal record: publish its entry or withdrawal (not yet flushed); update `listing`."""
        decoded = decode(CLASSIFIED, raw, key=key, partition=partition, offset=offset)
        if isinstance(decoded, DeadLetter):
            log.warning("refusal at [%d]@%d is malformed: %s", partition, offset, decoded.error)
            self._dead_letter(decoded)
            return None
        refusal: ClassifiedRefusal = decoded
        seen = listing.get(refusal.deal_id)
        if seen is not None and refusal.version <= seen.version:
            return None  # a replay or an older version: the list already has this or newer
        entry = decide(refusal, listed=bool(seen and seen.active), tz=self._settings.tz)
        if entry is None:
            return None
        if entry.active:
            task = seen.crm_task if seen and seen.active else None
            if task is None and self._writer is not None:
                task = self._create_task(entry, partition, offset)
            entry = entry.model_copy(update={"crm_task": task})
        self._producer.send_raw(REACTIVATION.name, entry.deal_id.encode(), entry.model_dump_json().encode())
        listing[entry.deal_id] = Listed(entry.version, entry.active, entry.crm_task)
        log.info("deal %s v%d: %s", entry.deal_id, entry.version,
                 f"listed ({entry.come_back}, {entry.recontact_on})" if entry.active else "withdrawn")
        return entry

    def _create_task(self, entry: ReactivationEntry, partition: int, offset: int) -> str | None:
        task, error = create_with_retries(self._writer, entry, attempts=self._settings.reactivation_crm_max_attempts,
                                          backoff_s=self._settings.reactivation_crm_backoff_s)
        if error is not None:
            # The entry still goes on the list, without a task; the letter says why.
            log.warning("deal %s: no %s task: %s", entry.deal_id, self._writer.name, error)
            self._dead_letter(DeadLetter(
                topic=REACTIVATION.name, partition=partition, offset=offset, key=entry.deal_id,
                error=f"reactivation {self._writer.name} task: {error}",
                payload=payload_text(orjson.dumps(entry.model_dump(mode="json"))),
                received_at=datetime.now(timezone.utc)))
        return task

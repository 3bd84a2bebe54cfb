"""A downstream service reading leakwatch's public topics: the refusals and the «Воронка
отказов», kept as one current record per deal.

Written against the published JSON Schemas only (schemas/json/*.v1.json), not against
leakwatch's code, as a team in another language would. What it relies on is the contract in
the README («The public contract»):

* keyed by deal_id, so one deal's records arrive in order on one partition;
* at least once: the same (deal_id, version) may arrive twice and is then the same record;
* per deal the highest version wins; `active=false` withdraws the deal;
* fields unknown to v1 are ignored, so additive changes within v1 break nothing.

    python examples/refusals_consumer.py --bootstrap 127.0.0.1:19092 --group my-team
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "json"
TOPICS = {"refusals.classified": "refusals.classified.v1.json", "refusals.reactivation": "refusals.reactivation.v1.json"}


def validator(topic: str, schemas: Path = SCHEMAS) -> Draft202012Validator:
    return Draft202012Validator(json.loads((schemas / TOPICS[topic]).read_text(encoding="utf-8")),
                                format_checker=FormatChecker())


def parse(check: Draft202012Validator, raw: bytes) -> dict:
    """The record as v1 describes it; raises jsonschema.ValidationError on a record v1 cannot read."""
    record = json.loads(raw)
    check.validate(record)
    return record


@dataclass
class CurrentByDeal:
    """The newest active record per deal: de-duplicated by (deal_id, version), retractions applied."""

    records: dict[str, dict] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def apply(self, record: dict) -> bool:
        """True when the record changed what we hold."""
        deal, version = record["deal_id"], record["version"]
        if version <= self.versions.get(deal, 0):
            return False  # a repeat (at-least-once) or an older version
        self.versions[deal] = version
        if record["active"]:
            self.records[deal] = record
        else:
            self.records.pop(deal, None)
        return True


def main() -> None:
    from confluent_kafka import Consumer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--group", default="example-consumer")
    parser.add_argument("--prefix", default="", help="LEAKWATCH_TOPIC_PREFIX of the installation")
    args = parser.parse_args()

    checks = {args.prefix + t: validator(t) for t in TOPICS}
    state = {t: CurrentByDeal() for t in checks}
    consumer = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe(list(checks))
    try:
        while True:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            record = parse(checks[msg.topic()], msg.value())
            if state[msg.topic()].apply(record):
                if msg.topic().endswith("reactivation"):
                    what = f"recontact on {record['recontact_on']} ({record['come_back']})" if record["active"] else "withdrawn"
                else:
                    what = f"{record['reason']} / {record['kind']}" if record["active"] else "retracted"
                print(f"{msg.topic()} deal {record['deal_id']} v{record['version']}: {what}")
            consumer.commit(message=msg, asynchronous=False)  # after the record is applied
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


if __name__ == "__main__":
    main()

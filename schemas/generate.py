"""Write one JSON Schema file per topic from the models: `python -m schemas.generate`."""

from __future__ import annotations

import json
from pathlib import Path

from schemas.topics import ALL, TopicSpec

OUT = Path(__file__).parent / "json"


def schema_document(spec: TopicSpec) -> dict:
    doc = spec.model.model_json_schema(mode="serialization")
    version = spec.model.model_fields["schema_version"].default
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"leakwatch:{spec.name}/v{version}",
        **doc,
        "x-topic": spec.name,
        "x-key": spec.key_field,
        "x-public": spec.public,
    }


def file_for(spec: TopicSpec) -> Path:
    version = spec.model.model_fields["schema_version"].default
    return OUT / f"{spec.name}.v{version}.json"


def render(spec: TopicSpec) -> str:
    return json.dumps(schema_document(spec), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for spec in ALL:
        file_for(spec).write_text(render(spec), encoding="utf-8")
        print(file_for(spec))


if __name__ == "__main__":
    main()

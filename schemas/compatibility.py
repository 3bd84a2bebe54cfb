"""Is a topic's new JSON Schema compatible with the one published under the same version?
Pure: two schema documents in, the breaking differences out.

Readers of an output topic (refusals.classified, refusals.reactivation, ...) coded against
v1 must keep reading: every field v1 promised stays, with the same values, and stays
required; new fields are fine as long as v1 allowed unknown fields. Writers of an input topic
(refusals.reviewed) coded against v1 must keep being accepted: nothing new becomes required
and no field's values narrow. Titles, descriptions and defaults are documentation, not
contract. Anything else needs a new schema version (and a new topic suffix).
"""

from __future__ import annotations

from typing import Literal

DOC_KEYS = {"title", "description", "default", "examples"}


def _resolve(node: object, defs: dict) -> object:
    """The schema with every local $ref inlined and documentation keys dropped."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = defs[node["$ref"].rsplit("/", 1)[-1]]
            return _resolve({**target, **{k: v for k, v in node.items() if k != "$ref"}}, defs)
        return {k: _resolve(v, defs) for k, v in node.items() if k not in DOC_KEYS}
    if isinstance(node, list):
        return [_resolve(v, defs) for v in node]
    return node


def _open(doc: dict) -> bool:
    return doc.get("additionalProperties", True) is not False


def breaking_changes(published: dict, current: dict, *, audience: Literal["readers", "writers"]) -> list[str]:
    """What in `current` breaks consumers (readers) or producers (writers) of `published`."""
    old_defs, new_defs = published.get("$defs", {}), current.get("$defs", {})
    old_props, new_props = published.get("properties", {}), current.get("properties", {})
    old_req, new_req = set(published.get("required", [])), set(current.get("required", []))
    problems = []
    for name, schema in old_props.items():
        if name not in new_props:
            if audience == "readers" or not _open(current):
                problems.append(f"field `{name}` was removed")
            continue
        if _resolve(schema, old_defs) != _resolve(new_props[name], new_defs):
            problems.append(f"field `{name}` changed its values")
    if audience == "readers":
        problems += [f"field `{n}` is no longer always present" for n in sorted(old_req - new_req) if n in new_props]
        added = sorted(set(new_props) - set(old_props))
        if added and not _open(published):
            problems.append(f"new fields {added} where v1 forbids unknown fields")
    else:
        problems += [f"field `{n}` became required" for n in sorted(new_req - old_req)]
        if _open(published) and not _open(current):
            problems.append("unknown fields are now refused")
    for key in ("x-topic", "x-key"):
        if published.get(key) != current.get(key):
            problems.append(f"{key} changed from {published.get(key)!r} to {current.get(key)!r}")
    return problems

"""Imports run one way: wire contracts at the bottom, the CLI at the top.

A unit is a top-level package, or a subpackage of `leakwatch`. Each may import only units
of a lower layer (or itself); a new unit must be given a layer here, so the rule is decided
when the module is added, not discovered later as a cycle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = ("schemas", "leakwatch", "streams", "services")

LAYERS = [
    {"schemas"},  # wire contracts and label sets: nothing of ours
    {"leakwatch.errors", "leakwatch.settings", "leakwatch.logs"},
    {"leakwatch.domain"},  # pure domain logic
    {"leakwatch.classifier", "leakwatch.store", "leakwatch.cards"},
    {"leakwatch.board", "leakwatch.grafana", "leakwatch.web"},
    {"streams"},
    {"services"},
    {"leakwatch.cli"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _unit(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "leakwatch" and len(parts) > 1 else parts[0]


def _imports() -> dict[str, set[tuple[str, str]]]:
    found: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for package in OURS:
        for path in (ROOT / package).rglob("*.py"):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] in OURS:
                        found[_unit(module)].add((_unit(name), str(path.relative_to(ROOT))))
    return found


def test_every_unit_has_a_layer():
    units = set(_imports()) | {target for edges in _imports().values() for target, _ in edges}
    assert not units - RANK.keys(), f"give these a layer in {__file__}: {sorted(units - RANK.keys())}"


@pytest.mark.parametrize("unit", sorted(RANK))
def test_imports_only_go_down(unit):
    upward = sorted((target, where) for target, where in _imports().get(unit, ())
                    if target != unit and RANK.get(target, 99) >= RANK[unit])
    assert not upward, f"{unit} imports a unit of its own or a higher layer: {upward}"

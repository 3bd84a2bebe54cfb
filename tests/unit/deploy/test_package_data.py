"""Files the code reads at run time travel with the package (a plain, non-editable install,
as in deploy/Dockerfile): every one is matched by pyproject.toml's package-data."""

from __future__ import annotations

import fnmatch
import tomllib

from leakwatch.settings import REPO_ROOT
from leakwatch.store.clickhouse import MIGRATIONS, migration_statements

PACKAGE_DATA = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]


def shipped(package: str, relative: str) -> bool:
    return any(fnmatch.fnmatch(relative, pattern) for pattern in PACKAGE_DATA.get(package, []))


def test_clickhouse_migrations_are_package_data():
    names = sorted(p.name for p in MIGRATIONS.iterdir() if p.name.endswith(".sql"))
    assert names and all(shipped("leakwatch.store", f"migrations/{name}") for name in names)
    assert len(migration_statements()) >= len(names)

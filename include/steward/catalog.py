"""Every table the platform holds, in every zone, with its data category and subject key.

Found, never restated: raw tables from the column policy (`data.yaml` `tables`), tables
the platform writes itself from `data.yaml` `platform_tables`, warehouse models from the
dbt manifest's `meta`, and analyst tables from the release policy. The retention sweep and
the subject-request handlers walk this catalogue, so a model added to dbt is covered the
day it is added; `undeclared()` names any table a store holds that the catalogue lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb

from steward import data_policy, dbt, policy
from steward.release.policy import load_policy as load_release_policy
from steward.release.publish import MANIFEST as RELEASE_MANIFEST

# How a subject key identifies the student, by the column's name.
KEY_KINDS = {
    "student_id": "student_id",
    "source_id": "student_id",
    "username": "username",
    "student_pseudonym": "pseudonym",
}


@dataclass(frozen=True)
class Table:
    store: str  # identified | warehouse | analyst | audit
    name: str  # schema.table
    category: str
    subject_key: str | None  # the column naming the student, when rows are per student
    sensitivity: str
    origin: str  # extract | platform | dbt | release
    subject_text: str | None = None  # a text column that may mention the student

    @property
    def key_kind(self) -> str | None:
        """`student_id`, `username` or `pseudonym`: what the subject key holds."""
        return KEY_KINDS.get(self.subject_key) if self.subject_key else None

    @property
    def is_personal(self) -> bool:
        return self.sensitivity != "none"


class CatalogError(ValueError):
    """A table lacks a category, or names one the policy does not declare."""


def _manifest(path: Path | None) -> dict:
    path = path or dbt.MANIFEST
    if not path.exists():
        dbt.parse()
    return json.loads(path.read_text())


def _dbt_tables(manifest: dict) -> list[Table]:
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        meta = node.get("config", {}).get("meta") or node.get("meta") or {}
        where = f"dbt model {node['name']} ({node['original_file_path']})"
        if not meta.get("data_category"):
            raise CatalogError(f"{where}: meta has no data_category")
        found.append(
            Table(
                store="warehouse",
                name=f"{node['schema']}.{node.get('alias') or node['name']}",
                category=meta["data_category"],
                subject_key=meta.get("subject_key"),
                sensitivity=meta.get("sensitivity", "personal"),
                origin="dbt",
            )
        )
    return found


def declared_tables() -> list[Table]:
    """The tables data.yaml declares: raw extracts and the tables the platform writes
    (known without the dbt manifest)."""
    found = [
        Table(
            store="identified",
            name=f"raw.{name}",
            category=entry["category"],
            subject_key=entry.get("subject_key"),
            sensitivity=(
                "personal"
                if any(c.get("sensitivity") != "none" for c in entry["columns"].values())
                else "none"
            ),
            origin="extract",
        )
        for name, entry in data_policy.tables().items()
    ]
    for store, declared in policy.load("data").get("platform_tables", {}).items():
        found += [
            Table(
                store=store,
                name=name,
                category=entry["category"],
                subject_key=entry.get("subject_key"),
                sensitivity=entry["sensitivity"],
                origin="platform",
                subject_text=entry.get("subject_text"),
            )
            for name, entry in declared.items()
        ]
    return found


def tables(manifest: Path | None = None) -> list[Table]:
    """The whole catalogue, checked against the declared categories."""
    found = declared_tables() + _dbt_tables(_manifest(manifest))
    found += [
        Table("analyst", f"main.{name}", "analyst_release", None, "none", "release")
        for name in (*load_release_policy().names, RELEASE_MANIFEST)
    ]
    known = data_policy.categories()
    for table in found:
        if table.category not in known:
            raise CatalogError(
                f"{table.store}.{table.name}: category {table.category!r} is not declared "
                f"in include/policies/data.yaml categories"
            )
    return found


def by_name(manifest: Path | None = None) -> dict[tuple[str, str], Table]:
    return {(t.store, t.name): t for t in tables(manifest)}


def subject_tables(store: str | None = None, manifest: Path | None = None) -> list[Table]:
    """Tables holding rows about a student (by key or in text), optionally in one store.
    Staff records have their own key (`staff_id`) and are not student data."""
    return [
        t
        for t in tables(manifest)
        if (t.key_kind or t.subject_text) and (store is None or t.store == store)
    ]


def store_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`schema.table` for every base table in an open store."""
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = current_database() order by 1"
    ).fetchall()
    return [name for (name,) in rows]


def undeclared(
    store: str, con: duckdb.DuckDBPyConnection, manifest: Path | None = None
) -> list[str]:
    """Tables in an open store that the catalogue does not know: each needs a category."""
    known = {name for (s, name) in by_name(manifest) if s == store}
    return [name for name in store_tables(con) if name not in known]

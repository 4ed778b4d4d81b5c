"""What a sweep would do on a date: per table and action, the exact number of rows past
their period, and per folder the files.

One predicate per table says which rows are due; the plan counts it, `apply` deletes or
anonymises exactly it, and `verify` counts it again. A row is due when its anchor date is
before the period's cutoff (`Period.cutoff`), its student is not enrolled on a module
presentation running on the sweep date, and (anonymise) it still holds a value to clear.
The anchors derived from module presentations, and the set of students on a running
module, are read once per store into temporary tables before anything changes, so the
order in which tables are swept cannot change the answer.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from steward import catalog, dbt, stores
from steward.digests import digests
from steward.retention import policy
from steward.risk._sql import literal, quote, quote_relation

AUDIT = "audit"
DB_STORES = ("identified", "warehouse", "analyst", AUDIT)
FILES = "files"
# The order a sweep applies in: the identified zone first, so that a rebuild of the
# warehouse from it agrees with the warehouse's own sweep; the audit store after the
# zones it describes; files last.
STORES = (*DB_STORES, FILES)
# Where a store keeps module presentations and enrolments, read for the module-end
# anchors and the running-module guard, and the key its enrolments name the student by.
MODULE_SOURCES = {
    "identified": ("raw.module_instances", "raw.enrolments", "student_id", "student_id"),
    "warehouse": (
        "staging.stg_sis__module_instances",
        "staging.stg_sis__enrolments",
        "student_pseudonym",
        "pseudonym",
    ),
}
RELEASE_MANIFEST = "main.release_manifest"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """Rows (or files) of one table (or folder) and what the sweep does to them."""

    store: str
    table: str
    category: str
    action: str
    rows: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _literal(value: date) -> str:
    return f"date '{value.isoformat()}'"


def store_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """`schema.table` -> its columns in order, for every base table of an open store."""
    rows = con.execute(
        """select table_schema || '.' || table_name, list(column_name order by ordinal_position)
        from information_schema.columns
        where table_catalog = current_database()
          and (table_schema, table_name) in (
              select schema_name, table_name from duckdb_tables()
              where database_name = current_database())
        group by all"""
    ).fetchall()
    return dict(rows)


def catalogue(manifest: Path | None = None) -> list[catalog.Table]:
    """The catalogue, read once per manifest version (a sweep asks for it per store)."""
    path = manifest or dbt.MANIFEST
    return _catalogue(path, path.stat().st_mtime_ns if path.exists() else None)


@cache
def _catalogue(path: Path, _version: int | None) -> list[catalog.Table]:
    return catalog.tables(path)


def rules(
    store: str, columns: dict[str, list[str]], manifest: Path | None = None
) -> list[policy.Rule]:
    """The rule of every table the store holds whose category is swept."""
    retentions = policy.retentions()
    found = []
    for table in catalogue(manifest):
        retention = retentions[table.category]
        if table.store == store and table.name in columns and not retention.exempt:
            found.append(policy.rule(table, columns[table.name], retention))
    return found


def prepare(con: duckdb.DuckDBPyConnection, store: str, as_of: date) -> None:
    """Read the derived anchors and the students on a running module on `as_of` into
    temporary tables (empty when the store has no module data yet)."""
    present = set(store_columns(con))
    con.execute(
        "create or replace temp table retention_modules "
        "(id varchar, start_date date, end_date date)"
    )
    con.execute(
        "create or replace temp table retention_enrolments "
        "(subject varchar, module varchar, withdrawal_date date)"
    )
    con.execute("create or replace temp table retention_active (kind varchar, id varchar)")
    con.execute(
        "create or replace temp table retention_published (name varchar, published_at timestamptz)"
    )
    if store in MODULE_SOURCES:
        modules, enrolments, key, kind = MODULE_SOURCES[store]
        if modules in present:
            con.execute(
                f"""insert into retention_modules
                select trim(module_instance_id), min(start_date), max(end_date)
                from {quote_relation(modules)} where module_instance_id is not null group by 1"""
            )
        if enrolments in present:
            con.execute(
                f"""insert into retention_enrolments
                select trim({quote(key)}), trim(module_instance_id), withdrawal_date
                from {quote_relation(enrolments)} where {quote(key)} is not null"""
            )
        con.execute(
            """insert into retention_active
            select distinct ?, e.subject
            from retention_enrolments e join retention_modules m on m.id = e.module
            where ? between m.start_date and m.end_date
              and coalesce(e.withdrawal_date > ?, true)""",
            [kind, as_of, as_of],
        )
        # library loans name the student by username: their usernames are guarded too
        if store == "identified" and "raw.students" in present:
            con.execute(
                """insert into retention_active
                select distinct 'username', trim(username) from raw.students
                where username is not null and trim(student_id) in
                    (select id from retention_active where kind = 'student_id')"""
            )
    con.execute(
        """create or replace temp table retention_last_end as
        select e.subject as id, max(m.end_date) as end_date
        from retention_enrolments e join retention_modules m on m.id = e.module
        group by 1"""
    )
    if store == "analyst" and RELEASE_MANIFEST in present:
        con.execute(
            f"insert into retention_published select release_name, published_at "
            f"from {quote_relation(RELEASE_MANIFEST)}"
        )


def predicate(rule: policy.Rule, as_of: date) -> str | None:
    """SQL over the table (alias `t`) true for the rows due on `as_of`; None when no row
    can be (an anonymised table with nothing left to clear)."""
    retention = rule.retention
    table = rule.table
    if retention.action == "anonymise" and not rule.clear:
        return None
    if table.store == AUDIT:
        # the sweep writes its own record there as it runs: a sweep dated after today (a
        # rehearsal, a test) judges the audit store as of today, or it would delete that
        as_of = min(as_of, datetime.now(UTC).date())
    cutoff = _literal(retention.period.cutoff(as_of))
    key = f"trim(t.{quote(table.subject_key)})" if table.subject_key else None
    if rule.anchor_column:
        due = f"t.{quote(rule.anchor_column)} < {cutoff}"
    elif retention.anchor == "module_end":
        due = (
            "trim(t.module_instance_id) in "
            f"(select id from retention_modules where end_date < {cutoff})"
        )
    elif retention.anchor == "last_module_end":
        due = f"{key} in (select id from retention_last_end where end_date < {cutoff})"
    elif table.name == RELEASE_MANIFEST:
        due = f"t.published_at < {cutoff}"
    else:  # release_publication of a release table: its manifest row's date
        name = literal(table.name.split(".", 1)[1])
        due = f"(select published_at from retention_published where name = {name}) < {cutoff}"
    clauses = [due]
    if key and table.key_kind:
        clauses.append(
            "not exists (select 1 from retention_active a "
            f"where a.kind = '{table.key_kind}' and a.id = {key})"
        )
    if retention.action == "anonymise":
        clauses.append("(" + " or ".join(f"t.{quote(c)} is not null" for c in rule.clear) + ")")
    return " and ".join(clauses)


def count(con: duckdb.DuckDBPyConnection, rule: policy.Rule, as_of: date) -> int:
    where = predicate(rule, as_of)
    if where is None:
        return 0
    return con.execute(
        f"select count(*) from {quote_relation(rule.table.name)} as t where {where}"
    ).fetchone()[0]


def plan_store(
    store: str, as_of: date, progress: Progress = print, manifest: Path | None = None
) -> list[Step]:
    """Rows due per table of one store (files: per folder), read-only."""
    if store == FILES:
        return [
            Step(FILES, folder, category, "delete", len(paths))
            for folder, category, paths in due_files(as_of)
        ]
    if not stores.store_path(store).exists():
        return []
    with stores.connect(store, read_only=True) as con:
        prepare(con, store, as_of)
        steps = []
        for rule in rules(store, store_columns(con), manifest):
            rows = count(con, rule, as_of)
            steps.append(Step(store, rule.table.name, rule.table.category, rule.action, rows))
            if rows:
                progress(f"{store} {rule.table.name}: {rows:,} rows to {rule.action}")
    return steps


def undeclared(store: str, manifest: Path | None = None) -> list[str]:
    """Tables the store holds that the catalogue (and so the sweep) does not know."""
    if store == FILES or not stores.store_path(store).exists():
        return []
    known = {t.name for t in catalogue(manifest) if t.store == store}
    with stores.connect(store, read_only=True) as con:
        return [name for name in catalog.store_tables(con) if name not in known]


def _expired_loads(cutoff: date) -> set[str]:
    """Content hashes of files loaded before `cutoff` (the ingest ledger)."""
    if not stores.store_path("identified").exists():
        return set()
    with stores.connect("identified", read_only=True) as con:
        if "raw.loaded_files" not in store_columns(con):
            return set()
        rows = con.execute(
            "select file_hash from raw.loaded_files where loaded_at < ?",
            [datetime.combine(cutoff, datetime.min.time(), UTC)],
        ).fetchall()
    return {h for (h,) in rows}


def due_files(as_of: date) -> list[tuple[str, str, list[Path]]]:
    """Per folder under STEWARD_HOME: (folder, category, files due on `as_of`)."""
    retentions = policy.retentions()
    found = []
    for folder, category in policy.file_folders().items():
        retention = retentions[category]
        root = stores.home() / folder
        if retention.exempt or not root.is_dir():
            found.append((folder, category, []))
            continue
        cutoff = retention.period.cutoff(as_of)
        files = sorted(p for p in root.rglob("*") if p.is_file())
        if retention.anchor == "file_load":
            loaded = _expired_loads(cutoff)
            hashed = zip(files, digests(files) if loaded else [], strict=False)
            due = [p for p, digest in hashed if digest in loaded]
        else:
            limit = datetime.combine(cutoff, datetime.min.time(), UTC).timestamp()
            due = [p for p in files if os.stat(p).st_mtime < limit]
        found.append((folder, category, due))
    return found

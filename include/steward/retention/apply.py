"""Carry out a sweep on one store: delete or anonymise exactly the rows the plan's
predicate names, all of the store's tables in one transaction (a failure part way leaves
the store as it was), or delete the due files of every folder.

Warehouse tables built by dbt are swept directly, so that verification holds before the
next build. The identified zone's sweep records the date it swept to
(`retention.swept_to`, in the same transaction), and every warehouse build is swept to
that date again (`sweep.resweep_warehouse`): dbt derives some rows from others that stay
(weekly rows on the enrolment spine), so a build alone could bring swept rows back.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from steward import stores
from steward.retention import plan
from steward.retention.plan import FILES, Progress, Step
from steward.risk._sql import quote, quote_relation

# One row: the latest date the identified zone has been swept to (not personal).
SWEPT_TO = "retention.swept_to"


def _statement(rule, where: str) -> str:
    table = quote_relation(rule.table.name)
    if rule.action == "delete":
        return f"delete from {table} as t where {where}"
    cleared = ", ".join(f"{quote(c)} = null" for c in rule.clear)
    return f"update {table} as t set {cleared} where {where}"


def apply_store(
    store: str, as_of: date, progress: Progress = print, manifest: Path | None = None
) -> list[Step]:
    """Sweep one store (or the files); the rows or files changed per table."""
    if store == FILES:
        return _apply_files(as_of, progress)
    if not stores.store_path(store).exists():
        return []
    done = []
    with stores.connect(store) as con:
        con.begin()
        try:
            plan.prepare(con, store, as_of)
            for rule in plan.rules(store, plan.store_columns(con), manifest):
                where = plan.predicate(rule, as_of)
                rows = con.execute(_statement(rule, where)).fetchone()[0] if where else 0
                done.append(Step(store, rule.table.name, rule.table.category, rule.action, rows))
                if rows:
                    progress(f"{store} {rule.table.name}: {rule.action}d {rows:,} rows")
            if store == "identified":
                _record_swept_to(con, as_of)
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return done


def _record_swept_to(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Keep the latest sweep date: rows swept to a later date stay swept when an earlier
    date is swept again, and the same date twice changes nothing."""
    con.execute("create schema if not exists retention")
    con.execute(f"create table if not exists {SWEPT_TO} (as_of date not null)")
    con.execute(f"delete from {SWEPT_TO} where as_of < ?", [as_of])
    con.execute(
        f"insert into {SWEPT_TO} select ? where not exists (select 1 from {SWEPT_TO})", [as_of]
    )


def swept_to() -> date | None:
    """The date the identified zone was last swept to; None before its first sweep."""
    if not stores.store_path("identified").exists():
        return None
    with stores.connect("identified", read_only=True) as con:
        if SWEPT_TO not in plan.store_columns(con):
            return None
        row = con.execute(f"select max(as_of) from {SWEPT_TO}").fetchone()
    return row[0]


def _apply_files(as_of: date, progress: Progress) -> list[Step]:
    done = []
    for folder, category, paths in plan.due_files(as_of):
        for path in paths:
            path.unlink(missing_ok=True)
        _remove_empty_folders(stores.home() / folder)
        done.append(Step(FILES, folder, category, "delete", len(paths)))
        if paths:
            progress(f"files {folder}: deleted {len(paths):,} files")
    return done


def _remove_empty_folders(root: Path) -> None:
    """Folders left empty under `root` (never `root` itself), deepest first."""
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()

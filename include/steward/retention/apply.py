"""Carry out a sweep on one store: delete or anonymise exactly the rows the plan's
predicate names, all of the store's tables in one transaction (a failure part way leaves
the store as it was), or delete the due files of every folder.

Warehouse tables built by dbt are swept directly, so that verification holds before the
next build; the identified zone's sweep is what makes that build agree.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from steward import stores
from steward.retention import plan
from steward.retention.plan import FILES, Progress, Step
from steward.risk._sql import quote, quote_relation


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
            con.commit()
        except BaseException:
            con.rollback()
            raise
    return done


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

"""Erasure: every personal record about a student deleted in every zone and file, except
the statutory record (the columns marked `statutory: true` in data.yaml: marks, grades,
outcomes), which stays in the identified zone under the student id with every other
personal column cleared. Derived data goes too: warehouse rows by pseudonym (dbt models,
predictions, interventions), access exports, and the student's lines in landing files.

Order, so that a run stopped at any point and run again ends in the same state: the
student's identifiers are read first; then the warehouse (one transaction), the exports,
the landing files (the changes planned, which only reads and so runs beside the
warehouse's erasure, the new content's hash recorded in the load ledger, then the
student's lines blanked in place), and last the identified zone (one transaction: the records, the identity map,
the quarantined rows that mention the student, the ledger's counts, and the erasure
suppression that stops a later extract from loading the student again). Each store's
transaction commits only when no table in it, declared or not, still names the student.
The next dbt build brings nothing back: staging keeps only students the identity map
still holds (macro `held_students`).

The completion record (request log and audit) holds counts per table, never a value.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import duckdb

from steward import catalog, data_policy, pseudonym, stores
from steward.requests import landing, suppression
from steward.requests.access import export_dir, exported_student
from steward.requests.policy import RequestRefused, statutory_columns
from steward.requests.subject import Subject, key_condition, resolve, table_exists, text_pattern


class ErasureIncomplete(RuntimeError):
    """Rows naming the student remain in a table the catalogue does not list."""


def _where(table: catalog.Table, subject: Subject) -> tuple[str, list[Any]] | None:
    if table.key_kind:
        return key_condition(table, subject)
    return f"regexp_matches({table.subject_text}, ?)", [text_pattern(subject)]


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> set[str]:
    schema, table = name.split(".")
    rows = con.execute(
        "select column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {c for (c,) in rows}


def _present(con: duckdb.DuckDBPyConnection, tables: list[catalog.Table]) -> list[catalog.Table]:
    present = set(catalog.store_tables(con))
    return [t for t in tables if t.name in present]


def erase(request_id: str, student_id: str) -> dict[str, Any]:
    """Erase a student everywhere; return the counts of the completion record."""
    key = pseudonym.load_key()
    tables = catalog.subject_tables()
    with stores.connect("identified") as con:
        subject = resolve(con, student_id, key)
        identified = _present(con, [t for t in tables if t.store == "identified"])
        held = sum(
            con.execute(f"select count(*) from {t.name} where {w[0]}", w[1]).fetchone()[0]
            for t in identified
            if t.key_kind and (w := key_condition(t, subject))
        )
        already = table_exists(con, "requests.erasures") and suppression.is_recorded(
            con, key, student_id
        )
        if not held and not already:
            raise RequestRefused("no records are held under this student id")
        counts: dict[str, Any] = {"tables": {}, "files": {}, "already_erased": bool(already)}
        # finding the student's lines in the landing files only reads them: it runs while
        # the warehouse is erased, and nothing in a file changes before the ledger knows
        with ThreadPoolExecutor(max_workers=1) as planner:
            planning = planner.submit(landing.stage_rewrites, stores.landing_dir(), subject.tokens)
            try:
                _erase_warehouse(subject, [t for t in tables if t.store == "warehouse"], counts)
                _erase_exports(subject, counts)
            except BaseException:
                for rewrite in planning.result():
                    rewrite.discard()
                raise
            rewrites = planning.result()
        try:
            _record_rewrites(con, rewrites, request_id)
            for rewrite in rewrites:
                rewrite.apply()
        finally:
            for rewrite in rewrites:
                rewrite.discard()
        counts["files"]["landing"] = {
            "files_changed": len(rewrites),
            "records_removed": sum(r.records_removed for r in rewrites),
        }
        _erase_identified(con, identified, subject, key, request_id, counts)
    return counts


def _erase_warehouse(subject: Subject, tables: list[catalog.Table], counts: dict[str, Any]) -> None:
    if not subject.pseudonym or not stores.store_path("warehouse").exists():
        return
    with stores.connect("warehouse") as con:
        con.begin()
        for table in _present(con, tables):
            where = _where(table, subject)
            if where is None:
                continue
            deleted = con.execute(
                f"delete from {table.name} where {where[0]}", where[1]
            ).fetchone()[0]
            if deleted:
                counts["tables"][f"warehouse.{table.name}"] = {"deleted": deleted}
        _verify(con, "warehouse", subject)
        con.commit()
        con.execute("checkpoint")  # deleted rows leave the write-ahead log now


def _erase_exports(subject: Subject, counts: dict[str, Any]) -> None:
    removed = 0
    for folder in sorted(export_dir().iterdir()):
        if folder.is_dir() and exported_student(folder) == subject.student_id:
            shutil.rmtree(folder)
            removed += 1
    counts["files"]["exports"] = {"exports_deleted": removed}


def _record_rewrites(
    con: duckdb.DuckDBPyConnection, rewrites: list[landing.Rewrite], request_id: str
) -> None:
    """Tell the ledger that each rewritten file's new content was loaded already (as the
    rows of its old content, less the student's), so ingest does not load it again. An
    entry for content that never replaces its file (a stopped run) matches nothing."""
    if not rewrites:
        return
    now = datetime.now(UTC)
    con.begin()
    for r in rewrites:
        con.execute(
            """insert or ignore into raw.loaded_files
            select ?, source_file, format, 0, 0, 0, ?, ? from raw.loaded_files
            where file_hash = ?""",
            [r.new_hash, request_id, now, r.old_hash],
        )
    con.commit()


def _erase_identified(
    con: duckdb.DuckDBPyConnection,
    tables: list[catalog.Table],
    subject: Subject,
    key: bytes,
    request_id: str,
    counts: dict[str, Any],
) -> None:
    con.begin()
    # the file lines the student's rows came from (deleted, kept as statutory, or
    # quarantined), for the load ledger's counts
    con.execute(
        "create or replace temp table erased_lines (file_hash varchar, line bigint, kind varchar)"
    )
    for table in tables:
        where = _where(table, subject)
        if where is None:
            continue
        raw_name = table.name.removeprefix("raw.")
        statutory = statutory_columns(raw_name) if table.origin == "extract" else set()
        columns = _columns(con, table.name)
        if {"_file_hash", "_line"} <= columns:
            lineage = "_file_hash, _line, " + ("'kept'" if statutory else "'deleted'")
        elif {"file_hash", "line"} <= columns:
            lineage = "file_hash, line, 'quarantined'"
        else:
            lineage = None
        if lineage:
            con.execute(
                f"insert into erased_lines select {lineage} from {table.name} where {where[0]}",
                where[1],
            )
        label = f"identified.{table.name}"
        if statutory:
            cleared = [
                c
                for c, rule in data_policy.tables()[raw_name]["columns"].items()
                if rule["sensitivity"] != "none" and c not in statutory and c != table.subject_key
            ]
            if cleared:
                con.execute(
                    f"update {table.name} set {', '.join(f'{c} = null' for c in cleared)} "
                    f"where {where[0]}",
                    where[1],
                )
            kept = con.execute(
                f"select count(*) from {table.name} where {where[0]}", where[1]
            ).fetchone()[0]
            if kept:
                counts["tables"][label] = {"statutory_rows_kept": kept}
            continue
        deleted = con.execute(f"delete from {table.name} where {where[0]}", where[1]).fetchone()[0]
        if deleted:
            counts["tables"][label] = {"deleted": deleted}
    counts["files"]["ledger"] = {"files_recounted": _recount_ledger(con)}
    counts["suppressed_identifiers"] = suppression.record(
        con,
        key,
        {"student_id": [subject.student_id], "username": list(subject.usernames)},
        request_id,
        datetime.now(UTC),
    )
    _verify(con, "identified", subject)
    con.commit()
    con.execute("checkpoint")


def _recount_ledger(con: duckdb.DuckDBPyConnection) -> int:
    """Keep `rows in = rows loaded + rows quarantined` true for the files the student's
    rows came from: an erased line is no longer loaded (a line whose statutory row stays
    still is), and quarantined lines are counted again."""
    con.execute(
        """create or replace temp table ledger_changes as
        with lines as (
            select file_hash, line,
                bool_or(kind = 'deleted') and not bool_or(kind = 'kept') as unloaded
            from erased_lines group by file_hash, line
        )
        select l.file_hash, count(*) filter (where l.unloaded) as unloaded,
            (select count(distinct q.line) from raw.quarantine q
             where q.file_hash = l.file_hash and q.line > 0) as quarantined
        from lines l group by l.file_hash"""
    )
    return con.execute(
        """update raw.loaded_files as f
        set rows_loaded = f.rows_loaded - c.unloaded,
            rows_quarantined = c.quarantined,
            rows_in = f.rows_loaded - c.unloaded + c.quarantined
        from ledger_changes as c
        where f.file_hash = c.file_hash and f.format <> 'unknown'"""
    ).fetchone()[0]


def _verify(con: duckdb.DuckDBPyConnection, store: str, subject: Subject) -> None:
    """Refuse to commit while any table of the store, declared or not, still names the
    student by a key column (statutory tables excepted), or a quarantined row mentions
    them: the transaction is rolled back and the request stays open."""
    statutory_tables = {f"raw.{t}" for t in data_policy.tables() if statutory_columns(t)}
    left = {}
    for name in catalog.store_tables(con):
        if name in statutory_tables:
            continue
        for column in sorted(_columns(con, name) & set(catalog.KEY_KINDS)):
            values = subject.key_values(catalog.KEY_KINDS[column])
            if values:
                n = con.execute(
                    f"select count(*) from {name} where trim({column}::varchar) "
                    "in (select unnest(?::varchar[]))",
                    [values],
                ).fetchone()[0]
                if n:
                    left[f"{name}.{column}"] = n
    if store == "identified" and table_exists(con, "raw.quarantine"):
        n = con.execute(
            "select count(*) from raw.quarantine where regexp_matches(record, ?)",
            [text_pattern(subject)],
        ).fetchone()[0]
        if n:
            left["raw.quarantine.record"] = n
    if left:
        con.rollback()
        raise ErasureIncomplete(
            f"erasure in {store}.duckdb rolled back: rows still name the student in "
            f"{', '.join(f'{k} ({v})' for k, v in left.items())}; declare the table's "
            "category and subject key (data.yaml platform_tables or the dbt model's meta) "
            "and run the request again"
        )

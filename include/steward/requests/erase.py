"""Erasure: every personal record about a student deleted in every zone and file, except
the statutory record (the columns marked `statutory: true` in data.yaml: marks, grades,
outcomes), which stays in the identified zone under the student id with every other
personal column cleared. Derived data goes too: warehouse rows by pseudonym (dbt models,
predictions, interventions), access exports, and the student's lines in landing files.

Erasures are carried out as a batch (one request is a batch of one): every step below
runs once for all the batch's students, and each request's completion record holds its
own student's counts. Order, so that a run stopped at any point and run again ends in the
same state: the students' identifiers are read first; then the warehouse (one
transaction), the exports, the landing files (the changes planned, which only reads and
so runs beside the warehouse's erasure, the new content's hash recorded in the load
ledger, then the students' lines blanked in place), and last the identified zone (one
transaction: the records, the identity map, the quarantined rows that mention a student,
the ledger's counts, and the erasure suppression that stops a later extract from loading
the students again). Each store's transaction commits only when no table in it, declared
or not, still names any of the students. When a batch fails (say a table the catalogue
does not know names one of them), its requests are carried out again one by one, so that
the others finish and only the one that fails stays open. The next dbt build brings
nothing back: staging keeps only students the identity map still holds (macro
`held_students`).

The completion record (request log and audit) holds counts per table, never a value.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from steward import catalog, data_policy, pseudonym, stores
from steward.requests import landing, suppression
from steward.requests.access import export_dir, exported_student
from steward.requests.policy import RequestRefused, statutory_columns
from steward.requests.subject import (
    Subject,
    key_condition,
    owners,
    resolve_many,
    table_exists,
    text_pattern,
)

logger = logging.getLogger(__name__)


class ErasureIncomplete(RuntimeError):
    """Rows naming the student remain in a table the catalogue does not list."""


@dataclass
class Erasure:
    """One request of a batch: its student, and the counts of its completion record."""

    request_id: str
    subject: Subject
    counts: dict[str, Any] = field(default_factory=dict)

    def add(self, section: str, name: str, counts: dict[str, int]) -> None:
        """Add counts of one step (a batch's step and its one-by-one retry both count)."""
        into = self.counts[section].setdefault(name, {})
        for what, n in counts.items():
            into[what] = into.get(what, 0) + n


def erase_many(requests: list[tuple[str, str]]) -> dict[str, dict[str, Any] | Exception]:
    """Erase each (request id, student id) everywhere, each student once; return per
    request id the counts of its completion record, or why it was refused
    (RequestRefused) or failed (it stays open)."""
    key = pseudonym.load_key()
    tables = catalog.subject_tables()
    results: dict[str, dict[str, Any] | Exception] = {}
    with stores.connect("identified") as con:
        subjects = resolve_many(con, sorted({s for _, s in requests}), key)
        columns = _store_columns(con)
        identified = [t for t in tables if t.store == "identified" and t.name in columns]
        held = _held(con, identified, list(subjects.values()))
        batch = []
        for request_id, student_id in requests:
            already = table_exists(con, "requests.erasures") and suppression.is_recorded(
                con, key, student_id
            )
            if not held[student_id] and not already:
                results[request_id] = RequestRefused("no records are held under this student id")
                continue
            counts = {"tables": {}, "files": {}, "already_erased": bool(already)}
            batch.append(Erasure(request_id, subjects[student_id], counts))
        try:
            _erase(con, batch, tables, key)
        except Exception as error:
            if len(batch) == 1:
                return results | {batch[0].request_id: error}
            # the type only: a database error can quote the values it failed on
            logger.warning(
                "a batch of %d erasures failed (%s); each is tried alone",
                len(batch),
                type(error).__name__,
            )
            for erasure in batch:  # the others finish; the one that fails stays open
                try:
                    _erase(con, [erasure], tables, key)
                except Exception as alone:
                    results[erasure.request_id] = alone
        for erasure in batch:
            results.setdefault(erasure.request_id, erasure.counts)
    return results


def _held(
    con: duckdb.DuckDBPyConnection, tables: list[catalog.Table], subjects: list[Subject]
) -> Counter[str]:
    """Rows each student has in the keyed tables of the identified zone."""
    held: Counter[str] = Counter()
    for table in tables:
        if table.key_kind and (where := key_condition(table, subjects)):
            named = owners(table, subjects)
            rows = con.execute(
                f"select {table.subject_key}, count(*) from {table.name} where {where[0]} "
                "group by all",
                where[1],
            ).fetchall()
            for value, n in rows:
                for position in named[value]:
                    held[subjects[position].student_id] += n
    return held


def _erase(
    con: duckdb.DuckDBPyConnection, batch: list[Erasure], tables: list[catalog.Table], key: bytes
) -> None:
    if not batch:
        return
    # finding the students' lines in the landing files only reads them: it runs while
    # the warehouse is erased, and nothing in a file changes before the ledger knows
    with ThreadPoolExecutor(max_workers=1) as planner:
        planning = planner.submit(
            landing.stage_rewrites, stores.landing_dir(), [e.subject.tokens for e in batch]
        )
        try:
            _erase_warehouse(batch, [t for t in tables if t.store == "warehouse"])
            _erase_exports(batch)
        except BaseException:
            for rewrite in planning.result():
                rewrite.discard()
            raise
        rewrites = planning.result()
    try:
        _record_rewrites(con, rewrites, batch)
        for rewrite in rewrites:
            rewrite.apply()
    finally:
        for rewrite in rewrites:
            rewrite.discard()
    for position, erasure in enumerate(batch):
        erasure.add(
            "files",
            "landing",
            {
                "files_changed": sum(1 for r in rewrites if r.removed[position]),
                "records_removed": sum(r.removed[position] for r in rewrites),
            },
        )
    columns = _store_columns(con)
    identified = [t for t in tables if t.store == "identified" and t.name in columns]
    _erase_identified(con, identified, columns, batch, key)


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.begin()
    try:
        yield
    except BaseException:
        con.rollback()
        raise
    con.commit()
    con.execute("checkpoint")  # deleted rows leave the write-ahead log now


def _store_columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """`schema.table` -> its columns, for every base table of an open store."""
    found: dict[str, set[str]] = {name: set() for name in catalog.store_tables(con)}
    rows = con.execute(
        "select schema_name || '.' || table_name, column_name from duckdb_columns() "
        "where database_name = current_database()"
    ).fetchall()
    for name, column in rows:
        if name in found:
            found[name].add(column)
    return found


DELETE = "delete from {table} where {where} returning {key}"
SELECT = "select {key} from {table} where {where}"


def _conditions(
    table: catalog.Table, subjects: list[Subject]
) -> list[tuple[str, list[Any], int | None]]:
    """`where` clauses selecting the students' rows of `table`, with their parameters and
    whose rows they are: keyed, one for all of them (None: the key says whose a row is); by
    text, one per student."""
    if table.key_kind:
        where = key_condition(table, subjects)
        return [(*where, None)] if where else []
    where = f"regexp_matches({table.subject_text}, ?)"
    return [(where, [text_pattern(s)], p) for p, s in enumerate(subjects)]


def _matched(
    con: duckdb.DuckDBPyConnection, table: catalog.Table, subjects: list[Subject], statement: str
) -> Counter[int]:
    """Run `statement` ({table}, {where}, and {key} for what it returns per row) on the
    students' rows of `table`; returns the rows per student's position in `subjects` (by
    text, the first student named counts a row)."""
    found: Counter[int] = Counter()
    named = owners(table, subjects) if table.key_kind else {}
    for where, params, position in _conditions(table, subjects):
        key = table.subject_key if position is None else "1"
        rows = con.execute(statement.format(table=table.name, where=where, key=key), params)
        for (value,) in rows.fetchall():
            found.update(named[value] if position is None else [position])
    return found


def _erase_warehouse(batch: list[Erasure], tables: list[catalog.Table]) -> None:
    batch = [e for e in batch if e.subject.pseudonym]
    if not batch or not stores.store_path("warehouse").exists():
        return
    subjects, changes = [e.subject for e in batch], []
    with stores.connect("warehouse") as con, _transaction(con):
        present = set(catalog.store_tables(con))
        for table in tables:
            if table.name in present:
                deleted = _matched(con, table, subjects, DELETE)
                changes += [
                    (p, f"warehouse.{table.name}", "deleted", n) for p, n in deleted.items()
                ]
        _verify(con, "warehouse", subjects)
    _count(batch, changes)


def _count(batch: list[Erasure], changes: list[tuple[int, str, str, int]]) -> None:
    """Add a committed transaction's (student's position, table, outcome, rows) to the
    counts (a transaction rolled back counts nothing)."""
    for position, label, outcome, n in changes:
        batch[position].add("tables", label, {outcome: n})


def _erase_exports(batch: list[Erasure]) -> None:
    erasures = {e.subject.student_id: e for e in batch}
    removed: Counter[str] = Counter()
    for folder in sorted(export_dir().iterdir()):
        if folder.is_dir() and (student := exported_student(folder)) in erasures:
            shutil.rmtree(folder)
            removed[student] += 1
    for erasure in batch:
        erasure.add("files", "exports", {"exports_deleted": removed[erasure.subject.student_id]})


def _record_rewrites(
    con: duckdb.DuckDBPyConnection, rewrites: list[landing.Rewrite], batch: list[Erasure]
) -> None:
    """Tell the ledger that each rewritten file's new content was loaded already (as the
    rows of its old content, less the students'), so ingest does not load it again; the
    entry names the first request whose student the file named. An entry for content
    that never replaces its file (a stopped run) matches nothing."""
    if not rewrites:
        return
    now = datetime.now(UTC)
    con.begin()
    for r in rewrites:
        request_id = next(e.request_id for e, n in zip(batch, r.removed, strict=True) if n)
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
    columns: dict[str, set[str]],
    batch: list[Erasure],
    key: bytes,
) -> None:
    subjects, changes = [e.subject for e in batch], []
    with _transaction(con):
        # the file lines the students' rows came from (deleted, kept as statutory, or
        # quarantined), for the load ledger's counts
        con.execute(
            "create or replace temp table erased_lines "
            "(file_hash varchar, line bigint, kind varchar, owner varchar)"
        )
        for table in tables:
            raw_name = table.name.removeprefix("raw.")
            statutory = statutory_columns(raw_name) if table.origin == "extract" else set()
            if {"_file_hash", "_line"} <= columns[table.name]:
                lineage = "_file_hash, _line, " + ("'kept'" if statutory else "'deleted'")
            elif {"file_hash", "line"} <= columns[table.name]:
                lineage = "file_hash, line, 'quarantined'"
            else:
                lineage = None
            if lineage:
                for where, params, position in _conditions(table, subjects):
                    # whose line it is: the key, or the student the text mentions
                    owner = table.subject_key if position is None else "?"
                    named = [] if position is None else [subjects[position].student_id]
                    con.execute(
                        f"insert into erased_lines select {lineage}, {owner} "
                        f"from {table.name} where {where}",
                        named + params,
                    )
            if statutory:
                cleared = [
                    c
                    for c, rule in data_policy.tables()[raw_name]["columns"].items()
                    if rule["sensitivity"] != "none"
                    and c not in statutory
                    and c != table.subject_key
                ]
                clear = ", ".join(f"{c} = null" for c in cleared)
                statement = f"update {{table}} set {clear} where {{where}} returning {{key}}"
                changed = _matched(con, table, subjects, statement if cleared else SELECT)
                outcome = "statutory_rows_kept"
            else:
                changed, outcome = _matched(con, table, subjects, DELETE), "deleted"
            changes += [(p, f"identified.{table.name}", outcome, n) for p, n in changed.items()]
        recounted = _recount_ledger(con, subjects)
        now = datetime.now(UTC)
        suppressed = [
            suppression.record(
                con,
                key,
                {"student_id": [s.student_id], "username": list(s.usernames)},
                erasure.request_id,
                now,
            )
            for erasure, s in zip(batch, subjects, strict=True)
        ]
        _verify(con, "identified", subjects)
    _count(batch, changes)
    for erasure, files, identifiers in zip(batch, recounted, suppressed, strict=True):
        erasure.counts["files"]["ledger"] = {"files_recounted": files}
        erasure.counts["suppressed_identifiers"] = identifiers


def _recount_ledger(con: duckdb.DuckDBPyConnection, subjects: list[Subject]) -> list[int]:
    """Keep `rows in = rows loaded + rows quarantined` true for the files the students'
    rows came from: an erased line is no longer loaded (a line whose statutory row stays
    still is), and quarantined lines are counted again. Returns each student's files."""
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
    con.execute(
        """update raw.loaded_files as f
        set rows_loaded = f.rows_loaded - c.unloaded,
            rows_quarantined = c.quarantined,
            rows_in = f.rows_loaded - c.unloaded + c.quarantined
        from ledger_changes as c
        where f.file_hash = c.file_hash and f.format <> 'unknown'"""
    )
    files: dict[str, set[str]] = {}
    for owner, file_hash in con.execute(
        """select distinct e.owner, e.file_hash from erased_lines e
        join raw.loaded_files f on f.file_hash = e.file_hash and f.format <> 'unknown'"""
    ).fetchall():
        files.setdefault(owner, set()).add(file_hash)
    return [
        len(set().union(*(files.get(v, set()) for v in (s.student_id, *s.usernames))))
        for s in subjects
    ]


def _verify(con: duckdb.DuckDBPyConnection, store: str, subjects: list[Subject]) -> None:
    """Refuse to commit while any table of the store, declared or not, still names one of
    the students by a key column (statutory tables excepted), or a quarantined row mentions
    one: raised inside the store's transaction, which is rolled back, and the request
    stays open."""
    statutory_tables = {f"raw.{t}" for t in data_policy.tables() if statutory_columns(t)}
    left = {}
    for name, columns in _store_columns(con).items():
        if name in statutory_tables:
            continue
        for column in sorted(columns & set(catalog.KEY_KINDS)):
            kind = catalog.KEY_KINDS[column]
            values = sorted({v for s in subjects for v in s.key_values(kind)})
            if values:
                n = con.execute(
                    f"select count(*) from {name} where trim({column}::varchar) "
                    "in (select unnest(?::varchar[]))",
                    [values],
                ).fetchone()[0]
                if n:
                    left[f"{name}.{column}"] = n
    if store == "identified" and table_exists(con, "raw.quarantine"):
        n = sum(
            con.execute(
                "select count(*) from raw.quarantine where regexp_matches(record, ?)",
                [text_pattern(subject)],
            ).fetchone()[0]
            for subject in subjects
        )
        if n:
            left["raw.quarantine.record"] = n
    if left:
        raise ErasureIncomplete(
            f"erasure in {store}.duckdb rolled back: rows still name the student in "
            f"{', '.join(f'{k} ({v})' for k, v in left.items())}; declare the table's "
            "category and subject key (data.yaml platform_tables or the dbt model's meta) "
            "and run the request again"
        )

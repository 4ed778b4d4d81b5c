"""Redact new case notes into the identified zone (`redacted.case_notes`), the table dbt
reads instead of `raw.case_notes`: the original text never leaves the identified zone.

Each note is redacted with the names the identified zone holds for its student (every
name any record of theirs has carried). A note is redacted again only when its text or
those names change (the row keeps a hash of both), so a run redacts only what is new;
a note no longer in `raw.case_notes` (erased, swept) is removed here as well.

Mentions of the student become `<SUBJECT>`; the staging model `stg_notes__case_notes`
turns that into the student's pseudonym tag from the identity map, so redaction needs no
pseudonymisation key and the tag follows a key rotation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from steward import audit, contracts, stores
from steward.pii.detect import Detector
from steward.pii.redact import SUBJECT, placeholder, redact_many_counted

TABLE = "redacted.case_notes"
SUBJECT_MARKER = placeholder(SUBJECT)
CHUNK_NOTES = 1000  # notes read, and redacted notes written, at a time: memory stays flat

# Notes whose redaction is missing or stale. Raw tables are append-only: the latest
# record of a note wins, as in dbt's `latest_record`.
PENDING = f"""
create or replace temp table pending_notes as
with names as (
    select trim(student_id) as student_id,
        list_sort(list(distinct concat_ws(' ', trim(first_name), trim(last_name))))
            as subject_names
    from raw.students
    where coalesce(trim(first_name), '') <> '' or coalesce(trim(last_name), '') <> ''
    group by 1
),
notes as (
    select note_id, student_id, staff_id, created_at, note_text
    from raw.case_notes
    qualify row_number() over (partition by note_id order by _loaded_at desc, _line desc) = 1
),
hashed as (
    select n.*,
        coalesce(s.subject_names, []) as subject_names,
        sha256(n.note_text || chr(0) || array_to_string(coalesce(s.subject_names, []), chr(0)))
            as source_hash
    from notes n
    left join names s on s.student_id = trim(n.student_id)
)
select row_number() over (order by note_id) as seq, *
from hashed h
where not exists (
    select 1 from {TABLE} r where r.note_id = h.note_id and r.source_hash = h.source_hash
)
"""


def create_table(con: duckdb.DuckDBPyConnection) -> None:
    """`redacted.case_notes` from its contract (idempotent)."""
    table = contracts.DERIVED_TABLES[TABLE]
    schema = TABLE.split(".")[0]
    columns = ", ".join(
        f"{c.name} {c.type}{' not null' if c.required else ''}" for c in table.columns
    )
    con.execute(f"create schema if not exists {schema}")
    con.execute(f"create table if not exists {TABLE} ({columns}, primary key ({table.unique}))")


def redact_new_notes(
    *,
    batch_size: int | None = None,
    n_process: int | None = None,
    detector: Detector | None = None,
) -> dict[str, Any]:
    """Redact every note that has no current redaction; returns counts (never text)."""
    started = datetime.now(UTC)
    run_id = audit.new_run_id("redact")
    entities: Counter[str] = Counter()
    redacted = 0
    with stores.connect("identified") as con:
        create_table(con)
        raw = con.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'raw' and table_name in ('case_notes', 'students')"
        ).fetchone()[0]
        if raw < 2:  # nothing landed yet: the (empty) table is all dbt needs
            return {"notes_redacted": 0, "notes_removed": 0, "entities": {}}
        removed = con.execute(
            f"delete from {TABLE} where note_id not in (select note_id from raw.case_notes)"
        ).fetchone()[0]
        con.execute(PENDING)
        pending = con.execute("select count(*) from pending_notes").fetchone()[0]
        # One stream of every pending note: worker processes (`pii.yaml: batch.n_process`)
        # start once for the run, and only for more than one block of notes.
        out = []
        for row, text, counts in redact_many_counted(
            ((row, row[4], row[5], SUBJECT_MARKER) for row in _pending_rows(con, pending)),
            batch_size,
            n_process,
            detector=detector,
        ):
            note_id, student_id, staff_id, created_at, _, _, source_hash = row
            entities.update(counts)
            out.append(
                {
                    "note_id": note_id,
                    "student_id": student_id,
                    "staff_id": staff_id,
                    "created_at": created_at,
                    "redacted_text": text,
                    "entity_counts": json.dumps(dict(sorted(counts.items()))),
                    "source_hash": source_hash,
                    "redacted_at": datetime.now(UTC),
                }
            )
            if len(out) == CHUNK_NOTES:
                _write(con, out)
                redacted += len(out)
                out = []
        _write(con, out)
        redacted += len(out)
        con.execute("drop table pending_notes")
    summary = {
        "notes_redacted": redacted,
        "notes_removed": removed,
        "entities": dict(sorted(entities.items())),
    }
    audit.record(
        run_id,
        "redact_case_notes",
        outcome="success",
        started_at=started,
        store="identified",
        table_name=TABLE,
        rows_in=pending,
        rows_affected=redacted + removed,
        detail=summary,
    )
    return summary


def _pending_rows(con: duckdb.DuckDBPyConnection, pending: int) -> Iterator[tuple]:
    """The pending notes in order, read `CHUNK_NOTES` at a time (each chunk fully fetched,
    so the same connection writes between chunks)."""
    for first in range(1, pending + 1, CHUNK_NOTES):
        yield from con.execute(
            "select note_id, student_id, staff_id, created_at, note_text, subject_names, "
            "source_hash from pending_notes where seq between ? and ? order by seq",
            [first, first + CHUNK_NOTES - 1],
        ).fetchall()


def _write(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = ", ".join(c.name for c in contracts.DERIVED_TABLES[TABLE].columns)
    con.register("redacted_batch", pa.Table.from_pylist(rows))
    try:
        con.execute(f"insert or replace into {TABLE} ({names}) select {names} from redacted_batch")
    finally:
        con.unregister("redacted_batch")

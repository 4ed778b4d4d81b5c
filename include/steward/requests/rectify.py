"""Rectification: a correction recorded against the source value it replaces
(`raw.rectifications`), applied over the source by the table's staging model (dbt macro
`rectified`) and so re-derived downstream by the next dbt build, which the
`data_subject_requests` DAG starts. The source extract is never edited: when the source
itself later sends a different value, the source wins."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import duckdb

from steward import contracts
from steward.ingest import value_problems
from steward.requests.policy import Field, RequestRefused
from steward.requests.schema import RECTIFICATIONS, create
from steward.requests.subject import table_exists


def rectify(
    con: duckdb.DuckDBPyConnection,
    request_id: str,
    student_id: str,
    field: Field,
    value: str,
    received_at: datetime,
) -> dict[str, Any]:
    """Record the correction in the open identified store; return counts (no values)."""
    value = value.strip()
    if not value:
        raise RequestRefused("a rectification needs the corrected value")
    table = f"raw.{field.table}"
    create(con)
    if not table_exists(con, table):
        raise RequestRefused("no records are held under this student id")
    contract = contracts.table(field.table)
    problems = value_problems(con, contract, contract.column(field.column), value)
    if problems:
        raise RequestRefused(f"the corrected value is not valid: {'; '.join(problems)}")
    # the value staging sees: the latest record, as dbt's `latest_record` picks it
    order = "provided_at desc nulls last, " if "provided_at" in contract.column_names else ""
    current = con.execute(
        f"""select {field.column}::varchar from {table} where trim(student_id) = ?
        order by {order}_loaded_at desc, _line desc limit 1""",
        [student_id],
    ).fetchall()
    if not current:
        raise RequestRefused("no records are held under this student id")
    (source_value,) = current[0]
    con.execute(
        f"insert into {RECTIFICATIONS} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            uuid.uuid4().hex,
            request_id,
            field.table,
            student_id,
            field.column,
            source_value,
            value,
            received_at,
            datetime.now(UTC),
        ],
    )
    return {
        "tables": {f"identified.{RECTIFICATIONS}": {"corrections_recorded": 1}},
        "field": f"{field.table}.{field.column}",
        "same_as_source": source_value == value,
    }

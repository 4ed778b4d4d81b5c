"""The identified-zone tables requests write: corrections (`raw.rectifications`, read by
dbt, so it must exist before any build) and erasure suppressions (`requests.erasures`,
read by ingest). Created by `ingest.create_schema` with the rest of the raw schema."""

from __future__ import annotations

import duckdb

from steward import contracts

RECTIFICATIONS = "raw.rectifications"
ERASURES = "requests.erasures"

ERASURES_DDL = f"""
create table if not exists {ERASURES} (
    subject_hash varchar primary key,
    kind varchar not null,
    request_id varchar not null,
    erased_at timestamptz not null
)"""


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Both tables, idempotently (the raw schema exists already)."""
    table = contracts.DERIVED_TABLES[RECTIFICATIONS]
    columns = ", ".join(
        f"{c.name} {c.type}{' not null' if c.required else ''}" for c in table.columns
    )
    con.execute(
        f"create table if not exists {RECTIFICATIONS} ({columns}, primary key ({table.unique}))"
    )
    con.execute("create schema if not exists requests")
    con.execute(ERASURES_DDL)

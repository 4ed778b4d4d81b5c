"""SQL for adapters that resolve a value against rows already in the identified zone.

During ingest an adapter's SQL runs on the identified store's connection, where `raw.*`
exists. `parse_file` runs the same SQL on an empty in-memory database, where a plain
reference to `raw.students` would fail to bind; there a lookup yields no rows instead,
so records come out unresolved and ingest's contract is what reports them.
"""

from __future__ import annotations


def _literal(sql: str) -> str:
    return "'" + sql.replace("'", "''") + "'"


def raw_lookup(sql: str, columns: dict[str, str]) -> str:
    """A FROM item running `sql` (over `raw.*`) in a store and empty in memory.

    `columns` names the result's columns and DuckDB types, for the empty version.
    """
    empty = "select " + ", ".join(f"null::{t} as {c}" for c, t in columns.items())
    return (
        f"query(if(current_database() = 'memory', {_literal(empty + ' where false')}, "
        f"{_literal(sql)}))"
    )

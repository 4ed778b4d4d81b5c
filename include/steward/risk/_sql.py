"""SQL helpers shared by the risk modules: identifier quoting and column checks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb

from steward.risk.errors import RiskInputError


def quote(name: str) -> str:
    """Quote one SQL identifier (column names such as ``marital-status`` need it)."""
    return '"' + name.replace('"', '""') + '"'


def quote_relation(name: str) -> str:
    """Quote a table or view name, keeping ``schema.table`` as two parts."""
    return ".".join(quote(part) for part in name.split("."))


def literal(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> DuckDB type of a table or view."""
    rows = con.execute(f"describe select * from {quote_relation(relation)}").fetchall()
    return {row[0]: row[1] for row in rows}


def require_columns(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    columns: Iterable[str],
    *,
    where: str | None = None,
) -> dict[str, str]:
    """Check every column exists; return the relation's column types.

    ``where`` names the source in the message (a file path), defaulting to the relation.
    """
    types = column_types(con, relation)
    missing = [c for c in dict.fromkeys(columns) if c not in types]
    if missing:
        raise RiskInputError(
            f"{where or relation}: no column {', '.join(map(repr, missing))}; "
            f"the columns are {', '.join(types)}"
        )
    return types


def check_qi_sa(qi: Sequence[str], sa: Sequence[str], where: str) -> None:
    """Quasi-identifiers are required and must not double as sensitive attributes."""
    if not qi:
        raise RiskInputError(f"{where}: name at least one quasi-identifier (--qi A,B)")
    overlap = sorted(set(qi) & set(sa))
    if overlap:
        raise RiskInputError(
            f"{where}: {', '.join(overlap)} named as both quasi-identifier and sensitive "
            "attribute; a column is one or the other"
        )

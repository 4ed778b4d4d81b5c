"""Checks on the built warehouse: nothing leaves the identified zone that policy keeps in.

- no column carries the name of a raw column policy drops or restricts (outside the
  `restricted` schema for special-category data);
- no value of a direct identifier from the identified zone (ids, names, contact details,
  dates of birth, full postcodes, session ids, IP addresses) appears in any text column.
Findings name the table and column, never the value.
"""

from __future__ import annotations

from steward import data_policy, stores

# raw columns whose values identify someone and must never appear in the warehouse
IDENTIFIER_TREATMENTS = {"drop", "pseudonymise", "age_band", "outcode"}
MIN_VALUE_LENGTH = 4  # shorter values (codes like '1', 'F') are not identifying on their own


class WarehouseLeakError(RuntimeError):
    """The warehouse holds something policy keeps in the identified zone."""


def forbidden_names() -> tuple[set[str], set[str]]:
    """(names never allowed in the warehouse, names allowed only in `restricted`).

    A raw column that policy drops or pseudonymises must not reach the warehouse under its
    own name (pseudonyms are named `*_pseudonym`), unless another table keeps a column of
    that name as it is."""
    removed, kept, restricted = set(), set(), set()
    for table in data_policy.tables().values():
        for name, rule in table["columns"].items():
            if rule["treatment"] == "restricted":
                restricted.add(name)
            elif rule["treatment"] in {"drop", "pseudonymise"}:
                removed.add(name)
            else:
                kept.add(name)
    return removed - kept - restricted, restricted


def identifier_columns() -> list[tuple[str, str]]:
    """(table, SQL expression) for every direct identifier. A person's name identifies as
    the full name: a first or last name alone equals ordinary words (a religion, a town)."""
    out = []
    for table, entry in data_policy.tables().items():
        columns = entry["columns"]
        names = [n for n, rule in columns.items() if rule.get("pii") == "PERSON"]
        if names:
            out.append((table, " || ' ' || ".join(f"trim({n})" for n in names)))
        out += [
            (table, name)
            for name, rule in columns.items()
            if rule.get("pii") not in (None, "PERSON")
            and rule["treatment"] in IDENTIFIER_TREATMENTS
        ]
    return out


def check_warehouse() -> dict[str, int]:
    """Raise WarehouseLeakError naming every leak; return counts of what was checked."""
    never, restricted = forbidden_names()
    findings: list[str] = []
    # Opened like dbt opens it (read-write, in the writer pool): DuckDB refuses a second
    # connection with another configuration in the same process (dag.test, dbtRunner).
    with stores.connect("warehouse") as con:
        identified = stores.store_path("identified")
        con.execute("attach if not exists ? as identified (read_only)", [str(identified)])
        columns = con.execute(
            """select schema_name, table_name, column_name, data_type
            from duckdb_columns() where database_name = current_database()
            and schema_name not in ('information_schema', 'pg_catalog')"""
        ).fetchall()
        for schema, table, column, _type in columns:
            if column in never:
                findings.append(
                    f"{schema}.{table}.{column}: a column policy keeps in the identified zone"
                )
            if column in restricted and schema != "restricted":
                findings.append(
                    f"{schema}.{table}.{column}: special-category data outside restricted"
                )
        raw_tables = {
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'identified' "
                "and schema_name = 'raw'"
            ).fetchall()
        }
        selects = [
            f"select distinct trim({col}::varchar) as value from identified.raw.{table} "
            f"where length(trim({col}::varchar)) >= {MIN_VALUE_LENGTH}"
            for table, col in identifier_columns()
            if table in raw_tables
        ]
        con.execute(
            f"create temp table identifiers as {' union '.join(selects) or 'select null::varchar as value'}"
        )
        identifier_count = con.execute("select count(*) from identifiers").fetchone()[0]
        # Each column is probed with the values' 64-bit hashes first, a join on integers
        # (half the time of one on the strings at 50,000 students); values are compared
        # only when a hash matches, so a collision is never reported as a leak.
        con.execute(
            "create temp table identifier_hashes as select distinct hash(value) as h from identifiers"
        )
        text_columns = [(s, t, c) for s, t, c, ty in columns if ty == "VARCHAR"]
        for schema, table, column in text_columns:
            value = f'trim(w."{column}")'
            hits = con.execute(
                f'select count(*) from "{schema}"."{table}" w '
                f"semi join identifier_hashes i on hash({value}) = i.h"
            ).fetchone()[0]
            if hits:
                hits = con.execute(
                    f'select count(*) from "{schema}"."{table}" w '
                    f"semi join identifiers i on {value} = i.value"
                ).fetchone()[0]
            if hits:
                findings.append(
                    f"{schema}.{table}.{column}: {hits} values equal a direct identifier"
                )
    if findings:
        raise WarehouseLeakError("warehouse check failed: " + "; ".join(findings))
    return {
        "columns_checked": len(columns),
        "text_columns_searched": len(text_columns),
        "identifier_values": identifier_count,
    }

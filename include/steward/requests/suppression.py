"""Erasure suppression: an erased student stays erased when a later extract still holds
them. The erasure records keyed hashes of the student's id and usernames
(`requests.erasures`; the values themselves are gone), and ingest, for every file it
loads, quarantines the rows of an erased student with the reason, values blanked, instead
of loading them. Needs the pseudonymisation key only once something has been erased."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import duckdb

from steward import contracts, data_policy, pseudonym
from steward.requests.schema import ERASURES

KINDS = ("student_id", "username")  # the subject keys of raw tables (data.yaml)
REASON = "student erased under a subject request; row not loaded"


def digest(key: bytes, kind: str, value: str) -> str:
    """A keyed hash that cannot be recomputed without the key, nor equals a pseudonym."""
    message = f"erased:{kind}:{value.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    values: dict[str, list[str]],
    request_id: str,
    now: datetime,
) -> int:
    """Add the hashes of `values` (kind -> values) in the caller's transaction."""
    rows = [
        (digest(key, kind, v), kind, request_id, now) for kind, vs in values.items() for v in vs
    ]
    con.executemany(f"insert or ignore into {ERASURES} values (?, ?, ?, ?)", rows)
    return len(rows)


def is_recorded(con: duckdb.DuckDBPyConnection, key: bytes, student_id: str) -> bool:
    return bool(
        con.execute(
            f"select 1 from {ERASURES} where subject_hash = ?",
            [digest(key, "student_id", student_id)],
        ).fetchone()
    )


def apply(con: duckdb.DuckDBPyConnection, checked: dict[str, str]) -> int:
    """In a file being loaded (`checked`: raw table -> its checked temp table, as in
    `ingest._load_file`), turn every line with a row of an erased student into a
    quarantined line with the reason and no values. Returns the lines suppressed."""
    if not con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'requests' "
        "and table_name = 'erasures' and database_name = current_database()"
    ).fetchone()[0]:
        return 0
    if not con.execute(f"select count(*) from {ERASURES}").fetchone()[0]:
        return 0
    key = pseudonym.load_key()
    con.execute("create or replace temp table erased_lines (_line bigint)")
    for table, temp in checked.items():
        kind = data_policy.tables()[table].get("subject_key")
        if kind not in KINDS:
            continue
        values = con.execute(
            f"select distinct trim({kind}) from {temp} where nullif(trim({kind}), '') is not null"
        ).fetchall()
        hashed = {digest(key, kind, v): v for (v,) in values}
        erased = [
            hashed[h]
            for (h,) in con.execute(
                f"select subject_hash from {ERASURES} where subject_hash in (select unnest(?))",
                [list(hashed)],
            ).fetchall()
        ]
        if erased:
            con.execute(
                f"insert into erased_lines select _line from {temp} "
                f"where trim({kind}) in (select unnest(?::varchar[]))",
                [erased],
            )
    lines = con.execute("select count(distinct _line) from erased_lines").fetchone()[0]
    if lines:
        for table, temp in checked.items():
            blank = ", ".join(f"{c} = null" for c in contracts.table(table).column_names)
            field = data_policy.tables()[table].get("subject_key") or "*"
            con.execute(
                f"update {temp} set {blank}, _errors = ['{field}|{REASON}'] "
                "where _line in (select _line from erased_lines)"
            )
    con.execute("drop table erased_lines")
    return lines

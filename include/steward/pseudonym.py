"""Keyed pseudonyms: HMAC-SHA256 of a subject's identifier under the institution's secret.

The identity map (identifier -> pseudonym) lives only in the identified zone
(`identity.identity_map`); dbt joins to it, so the key itself never reaches dbt, the
warehouse or a log. Without the key nobody can recompute or reverse a pseudonym; rotating
the key re-pseudonymises everyone and breaks linkage with anything released before.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from datetime import UTC, datetime

import duckdb

from steward import audit, stores

KEY_ENV = "STEWARD_PSEUDONYM_KEY"
KEY_CONNECTION = "steward_pseudonym_key"
MIN_KEY_LENGTH = 32
PSEUDONYM_HEX = 24  # 96 bits: no collision among millions of subjects in practice

# Where each kind of subject's identifiers are found in the raw tables.
SUBJECT_SOURCES = {
    "student": [("students", "student_id")],
    "staff": [("staff", "staff_id"), ("students", "tutor_staff_id"), ("case_notes", "staff_id")],
}

IDENTITY_MAP = """
create table if not exists identity.identity_map (
    subject_type varchar not null,
    source_id varchar not null,
    pseudonym varchar not null,
    key_id varchar not null,
    created_at timestamptz not null,
    primary key (subject_type, source_id)
)"""


class MissingKeyError(RuntimeError):
    """No pseudonymisation key is configured."""


def _key_from_airflow() -> str | None:
    try:
        from airflow.sdk import BaseHook
    except ImportError:
        return None
    try:
        return BaseHook.get_connection(KEY_CONNECTION).password or None
    except Exception:  # no Airflow context or no such connection: treated as no key
        return None


def load_key(getter: Callable[[], str | None] = _key_from_airflow) -> bytes:
    """The key from $STEWARD_PSEUDONYM_KEY, else the Airflow connection's password."""
    key = os.environ.get(KEY_ENV) or getter()
    if not key:
        raise MissingKeyError(
            f"no pseudonymisation key: set {KEY_ENV} (at least {MIN_KEY_LENGTH} characters, "
            f"e.g. from `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) or the "
            f"password of the Airflow connection '{KEY_CONNECTION}'"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise MissingKeyError(
            f"the pseudonymisation key is shorter than {MIN_KEY_LENGTH} characters"
        )
    return key.encode()


def key_id(key: bytes) -> str:
    """A short fingerprint that tells which key built a map, without revealing it."""
    return hashlib.sha256(b"steward-key-id:" + key).hexdigest()[:12]


def pseudonym(key: bytes, subject_type: str, source_id: str) -> str:
    message = f"{subject_type}:{source_id.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]


def _existing_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where schema_name = 'raw'"
    ).fetchall()
    return {name for (name,) in rows}


def _insert(
    con: duckdb.DuckDBPyConnection,
    subject_types: list[str],
    source_ids: list[str],
    key: bytes,
    now: datetime,
) -> None:
    """Insert pseudonyms for these subjects in one statement (`executemany` took 34 s for
    10,000 students)."""
    if not source_ids:
        return
    pseudonyms = [pseudonym(key, t, s) for t, s in zip(subject_types, source_ids, strict=True)]
    con.execute(
        "insert into identity.identity_map select unnest(?::varchar[]), unnest(?::varchar[]), "
        "unnest(?::varchar[]), ?, ?",
        [subject_types, source_ids, pseudonyms, key_id(key), now],
    )


def refresh_identity_map(key: bytes | None = None) -> dict[str, int]:
    """Add a pseudonym for every identifier in the identified zone that has none yet."""
    key = key or load_key()
    started = datetime.now(UTC)
    with stores.connect("identified") as con:
        con.execute("create schema if not exists identity")
        con.execute(IDENTITY_MAP)
        in_use = con.execute("select distinct key_id from identity.identity_map").fetchall()
        if in_use and in_use != [(key_id(key),)]:
            raise MissingKeyError(
                "the identity map was built with a different key; to change keys on purpose "
                "run `steward pseudonym rotate` (it re-pseudonymises everyone)"
            )
        tables = _existing_tables(con)
        added: dict[str, int] = {}
        now = datetime.now(UTC)
        for subject_type, places in SUBJECT_SOURCES.items():
            selects = [
                f"select trim({column}) as id from raw.{table} where nullif(trim({column}), '') is not null"
                for table, column in places
                if table in tables
            ]
            if not selects:
                continue
            new_ids = con.execute(
                f"""select distinct id from ({" union ".join(selects)})
                where id not in (select source_id from identity.identity_map
                                 where subject_type = ?)""",
                [subject_type],
            ).fetchall()
            ids = [sid for (sid,) in new_ids]
            _insert(con, [subject_type] * len(ids), ids, key, now)
            added[subject_type] = len(ids)
    audit.record(
        audit.new_run_id("pseudonymise"),
        "identity_map_refresh",
        outcome="success",
        started_at=started,
        store="identified",
        table_name="identity.identity_map",
        rows_affected=sum(added.values()),
        detail=added,
    )
    return added


def rotate(new_key: bytes) -> int:
    """Re-pseudonymise every subject under `new_key` in one transaction; returns rows.

    Rebuild the warehouse afterwards (the next `transform_warehouse` run does it)."""
    started = datetime.now(UTC)
    with stores.connect("identified") as con:
        con.execute("create schema if not exists identity")
        con.execute(IDENTITY_MAP)
        rows = con.execute("select subject_type, source_id from identity.identity_map").fetchall()
        now = datetime.now(UTC)
        con.begin()
        con.execute("delete from identity.identity_map")
        _insert(con, [t for t, _ in rows], [s for _, s in rows], new_key, now)
        con.commit()
    audit.record(
        audit.new_run_id("rotate"),
        "pseudonym_key_rotation",
        outcome="success",
        started_at=started,
        store="identified",
        table_name="identity.identity_map",
        rows_affected=len(rows),
    )
    return len(rows)

"""Who a request is about: the student's id, the usernames and other identifiers any
record of theirs has carried, and their pseudonym, looked up in the identified zone
before anything is changed (an erasure removes what it was found by)."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from steward import catalog, pseudonym

# raw.students columns that identify a student in free text (quarantined records, landing
# files). Single names are left out: "Smith" is not one student.
IDENTIFIER_COLUMNS = ("username", "vle_id", "uln", "husid", "email", "phone")
MIN_TOKEN = 4  # shorter values would match unrelated text


@dataclass(frozen=True)
class Subject:
    student_id: str
    pseudonym: str | None
    usernames: tuple[str, ...] = ()
    tokens: tuple[str, ...] = field(default=())  # every identifier, for text search

    def key_values(self, kind: str) -> list[str]:
        """The values a subject key of `kind` (catalog.KEY_KINDS) holds for this student."""
        if kind == "student_id":
            return [self.student_id]
        if kind == "username":
            return list(self.usernames)
        if kind == "pseudonym":
            return [self.pseudonym] if self.pseudonym else []
        raise ValueError(f"unknown subject key kind {kind!r}")


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, table = name.split(".")
    return bool(
        con.execute(
            "select 1 from duckdb_tables() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchone()
    )


def resolve(con: duckdb.DuckDBPyConnection, student_id: str, key: bytes | None = None) -> Subject:
    """The student's identifiers from an open identified store. The pseudonym comes from
    the identity map, or from the key when the map no longer has it (an erasure re-run)."""
    found: dict[str, set[str]] = {c: set() for c in (*IDENTIFIER_COLUMNS, "full_name")}
    if table_exists(con, "raw.students"):
        rows = con.execute(
            f"""select {", ".join(f"trim({c})" for c in IDENTIFIER_COLUMNS)},
                trim(concat_ws(' ', trim(first_name), trim(last_name)))
            from raw.students where trim(student_id) = ?""",
            [student_id],
        ).fetchall()
        for row in rows:
            for name, value in zip((*IDENTIFIER_COLUMNS, "full_name"), row, strict=True):
                if value:
                    found[name].add(value)
    mapped = None
    if table_exists(con, "identity.identity_map"):
        row = con.execute(
            "select pseudonym from identity.identity_map "
            "where subject_type = 'student' and source_id = ?",
            [student_id],
        ).fetchone()
        mapped = row[0] if row else None
    if mapped is None and key is not None:
        mapped = pseudonym.pseudonym(key, "student", student_id)
    full_names = {n for n in found["full_name"] if " " in n}
    tokens = {student_id, *full_names, *(v for c in IDENTIFIER_COLUMNS for v in found[c])}
    return Subject(
        student_id=student_id,
        pseudonym=mapped,
        usernames=tuple(sorted(found["username"])),
        tokens=tuple(sorted(t for t in tokens if len(t) >= MIN_TOKEN)),
    )


def key_condition(table: catalog.Table, subject: Subject) -> tuple[str, list[str]] | None:
    """A parameterised `where` clause selecting the student's rows of a keyed table, or
    None when the student has no value for its key (no usernames, no pseudonym). Keys are
    stored trimmed (ingest trims every value), so the column is compared as it is."""
    values = subject.key_values(table.key_kind)
    if not values:
        return None
    clause = f"{table.subject_key} in ({', '.join('?' for _ in values)})"
    if table.subject_key == "source_id":
        # the identity map's key column holds staff ids too (pseudonym.IDENTITY_MAP)
        clause += " and subject_type = 'student'"
    return clause, list(values)


def text_pattern(subject: Subject) -> str:
    """An RE2 pattern finding any of the student's identifiers as a whole token (so that
    S123 does not match S1234). Every character that is not a letter or digit is written
    as a code point, so nothing in a value can act as pattern syntax."""
    escaped = [
        "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in token)
        for token in subject.tokens
    ]
    return f"(^|[^A-Za-z0-9])({'|'.join(escaped)})($|[^A-Za-z0-9])"

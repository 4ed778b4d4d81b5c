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
    """The student's identifiers from an open identified store (see `resolve_many`)."""
    return resolve_many(con, [student_id], key)[student_id]


def resolve_many(
    con: duckdb.DuckDBPyConnection, student_ids: list[str], key: bytes | None = None
) -> dict[str, Subject]:
    """Each student's identifiers from an open identified store, in one query per table.
    The pseudonym comes from the identity map, or from the key when the map no longer has
    it (an erasure re-run)."""
    found = {s: {c: set() for c in (*IDENTIFIER_COLUMNS, "full_name")} for s in student_ids}
    if table_exists(con, "raw.students"):
        rows = con.execute(
            f"""select trim(student_id), {", ".join(f"trim({c})" for c in IDENTIFIER_COLUMNS)},
                trim(concat_ws(' ', trim(first_name), trim(last_name)))
            from raw.students where trim(student_id) in (select unnest(?::varchar[]))""",
            [student_ids],
        ).fetchall()
        for student_id, *values in rows:
            for name, value in zip((*IDENTIFIER_COLUMNS, "full_name"), values, strict=True):
                if value:
                    found[student_id][name].add(value)
    mapped = {}
    if table_exists(con, "identity.identity_map"):
        mapped = dict(
            con.execute(
                "select source_id, pseudonym from identity.identity_map "
                "where subject_type = 'student' and source_id in (select unnest(?::varchar[]))",
                [student_ids],
            ).fetchall()
        )
    subjects = {}
    for student_id, values in found.items():
        held = mapped.get(student_id)
        if held is None and key is not None:
            held = pseudonym.pseudonym(key, "student", student_id)
        full_names = {n for n in values["full_name"] if " " in n}
        tokens = {student_id, *full_names, *(v for c in IDENTIFIER_COLUMNS for v in values[c])}
        subjects[student_id] = Subject(
            student_id=student_id,
            pseudonym=held,
            usernames=tuple(sorted(values["username"])),
            tokens=tuple(sorted(t for t in tokens if len(t) >= MIN_TOKEN)),
        )
    return subjects


def key_condition(table: catalog.Table, subjects: list[Subject]) -> tuple[str, list[str]] | None:
    """A parameterised `where` clause selecting the students' rows of a keyed table, or
    None when no student has a value for its key (no usernames, no pseudonym). Keys are
    stored trimmed (ingest trims every value), so the column is compared as it is."""
    values = sorted(owners(table, subjects))
    if not values:
        return None
    clause = f"{table.subject_key} in (select unnest(?::varchar[]))"
    if table.subject_key == "source_id":
        # the identity map's key column holds staff ids too (pseudonym.IDENTITY_MAP)
        clause += " and subject_type = 'student'"
    return clause, [values]


def owners(table: catalog.Table, subjects: list[Subject]) -> dict[str, list[int]]:
    """Each value of the table's subject key that names one of `subjects` -> the
    positions of the students it names (a username two students carried names both)."""
    found: dict[str, list[int]] = {}
    for position, subject in enumerate(subjects):
        for value in subject.key_values(table.key_kind):
            found.setdefault(value, []).append(position)
    return found


def text_pattern(subject: Subject) -> str:
    """An RE2 pattern finding any of the student's identifiers as a whole token (so that
    S123 does not match S1234). Every character that is not a letter or digit is written
    as a code point, so nothing in a value can act as pattern syntax."""
    escaped = [
        "".join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in token)
        for token in subject.tokens
    ]
    return f"(^|[^A-Za-z0-9])({'|'.join(escaped)})($|[^A-Za-z0-9])"

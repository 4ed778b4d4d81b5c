"""Bad input: a corpus of broken extracts in every format we ingest, landed as one drop after
a reference load. Every broken record is quarantined naming its file, line, field and reason;
every file balances (rows in = rows loaded + rows quarantined); the good records beside the
broken ones load. A file that cannot be read at all is quarantined whole, saying why.

`corpus/` and `reference/` are committed byte for byte (byte-order marks, latin-1, UTF-16,
bare carriage returns, control characters; see .gitattributes). What is too big to commit
or cannot be committed portably (a 40 MB line, hostile file names, a symbolic link) is
generated into the drop at test time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import duckdb
import orjson
import pytest

from steward.ingest import FileResult, check_ledger, ingest
from steward.sources.framing import MAX_LINE_BYTES

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REFERENCE = HERE / "reference"
VIEWED = "http://id.tincanapi.com/verb/viewed"
HUGE_LINE_BYTES = 40 << 20
NESTING = 100_000


class Bad(NamedTuple):
    kind: str
    file: str  # under corpus/, or drop/ for files generated at test time
    line: int
    field: str
    reason: str  # the quarantine reason starts with this


def uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


HUGE_REASON = (
    f"line is {HUGE_LINE_BYTES + 9:,} bytes, longer than the {MAX_LINE_BYTES:,} byte limit"
)

BAD = [
    # xAPI statements, one per line
    Bad("truncated JSON line", "xapi/statements.jsonl", 2, "*", "not valid JSON"),
    Bad("line that is not JSON", "xapi/statements.jsonl", 3, "*", "not valid JSON"),
    Bad("JSON array for a statement", "xapi/statements.jsonl", 4, "*", "not a JSON object"),
    Bad("unknown verb", "xapi/statements.jsonl", 5, "verb_iri", "not in the accepted values"),
    Bad("unknown student", "xapi/statements.jsonl", 6, "student_id", "unknown student"),
    Bad(
        "statement repeated in the file",
        "xapi/statements.jsonl",
        7,
        "statement_id",
        "duplicate of an earlier line in this file",
    ),
    Bad(
        "statement loaded by an earlier run",
        "xapi/statements.jsonl",
        8,
        "statement_id",
        "duplicate of a record already loaded",
    ),
    Bad("future timestamp", "xapi/statements.jsonl", 9, "occurred_at", "in the future"),
    Bad("timestamp before 1900", "xapi/statements.jsonl", 10, "occurred_at", "before 1900"),
    Bad(
        "impossible date (30 February)",
        "xapi/statements.jsonl",
        11,
        "occurred_at",
        "not a valid timestamptz",
    ),
    Bad(
        "number where a timestamp belongs",
        "xapi/statements.jsonl",
        12,
        "occurred_at",
        "not a valid timestamptz",
    ),
    Bad("statement without an actor", "xapi/statements.jsonl", 13, "student_id", "required"),
    Bad(
        "unknown module instance",
        "xapi/statements.jsonl",
        14,
        "module_instance_id",
        "unknown module instance",
    ),
    Bad(
        "statement id of 200 characters",
        "xapi/statements.jsonl",
        15,
        "statement_id",
        "longer than 128 characters",
    ),
    Bad(
        "SQL injection in the actor",
        "xapi/statements.jsonl",
        16,
        "student_id",
        "unknown student",
    ),
    Bad(
        "Moodle export (&46; keys) for an unknown student",
        "xapi/moodle-export.jsonl",
        2,
        "student_id",
        "unknown student",
    ),
    Bad(
        "Moodle export dated in the future",
        "xapi/moodle-export.jsonl",
        3,
        "occurred_at",
        "in the future",
    ),
    Bad(
        "LRS envelope dated in the future",
        "xapi/lrs-envelope.jsonl",
        2,
        "occurred_at",
        "in the future",
    ),
    *(
        Bad("LRS envelope holding null", "xapi/lrs-envelope.jsonl", 3, field, "required")
        for field in ("statement_id", "student_id", "verb_iri", "occurred_at")
    ),
    Bad(
        "latin-1 line in a UTF-8 file (after a byte-order mark)",
        "xapi/bom-and-latin1.jsonl",
        3,
        "*",
        "not valid UTF-8 (byte 0xe9",
    ),
    Bad(
        "UTF-16 file: byte-order mark",
        "xapi/utf16.jsonl",
        1,
        "*",
        "not valid UTF-8 (byte 0xff at column 1)",
    ),
    Bad(
        "UTF-16 file: NUL bytes",
        "xapi/utf16.jsonl",
        2,
        "*",
        "control character U+0000 at column 1",
    ),
    Bad(
        "UTF-16 file: NUL bytes (last line)",
        "xapi/utf16.jsonl",
        3,
        "*",
        "control character U+0000 at column 1",
    ),
    Bad("number in a statement array", "xapi/document.json", 2, "*", "not a JSON object"),
    Bad(
        "future statement in a statement array",
        "xapi/document.json",
        3,
        "occurred_at",
        "in the future",
    ),
    Bad("huge single line (40 MB)", "drop/vle/huge-line.jsonl", 2, "*", HUGE_REASON),
    Bad(
        f"JSON nested {NESTING:,} deep",
        "drop/vle/deeply-nested.jsonl",
        1,
        "*",
        "not a JSON object",
    ),
    # Jisc UDD extracts
    Bad(
        "row with an extra field",
        "udd/student-extra-columns.tsv",
        3,
        "*",
        "expected 9 fields, found 10",
    ),
    Bad(
        "word for a number",
        "udd/student-extra-columns.tsv",
        4,
        "imd_quintile",
        "not a valid integer",
    ),
    Bad(
        "IMD quintile of 9",
        "udd/student-extra-columns.tsv",
        5,
        "imd_quintile",
        "above the maximum 5",
    ),
    Bad(
        "extract provided in the future",
        "udd/student-extra-columns.tsv",
        6,
        "provided_at",
        "in the future",
    ),
    Bad(
        "student id of 70 characters",
        "udd/student-extra-columns.tsv",
        7,
        "student_id",
        "longer than 64 characters",
    ),
    Bad(
        "email of 324 characters",
        "udd/student-extra-columns.tsv",
        8,
        "email",
        "longer than 320 characters",
    ),
    *(
        Bad(
            "missing required column",
            "udd/module_instance-missing-column.tsv",
            line,
            "end_date",
            "required value missing",
        )
        for line in (2, 3)
    ),
    Bad("credits as a word", "udd/module-wrong-types.tsv", 3, "credits", "not a valid integer"),
    Bad("negative credits", "udd/module-wrong-types.tsv", 4, "credits", "below the minimum 0"),
    Bad("99,999 credits", "udd/module-wrong-types.tsv", 5, "credits", "above the maximum 360"),
    # OULAD
    Bad("negative click count", "oulad/studentVle.csv", 3, "event_count", "below the minimum 1"),
    Bad(
        "250,000 clicks in a day",
        "oulad/studentVle.csv",
        4,
        "event_count",
        "above the maximum 100000",
    ),
    Bad(
        "fractional click count",
        "oulad/studentVle.csv",
        5,
        "event_count",
        "not a valid integer",
    ),
    Bad(
        "day 999,999 of a presentation",
        "oulad/studentVle.csv",
        6,
        "occurred_at",
        "in the future",
    ),
    Bad(
        "day -50,000 of a presentation",
        "oulad/studentVle.csv",
        7,
        "occurred_at",
        "before 1900",
    ),
    Bad("'?' for the student", "oulad/studentVle.csv", 8, "student_id", "required"),
    Bad("'?' for the student (no id)", "oulad/studentVle.csv", 8, "statement_id", "required"),
    Bad("unknown OULAD student", "oulad/studentVle.csv", 9, "student_id", "unknown student"),
    Bad(
        "unterminated quote",
        "oulad/studentVle.csv",
        10,
        "*",
        "unreadable quoting: unexpected end of data",
    ),
    Bad("row with a field missing", "oulad/studentVle.csv", 11, "*", "expected 6 fields, found 5"),
    Bad("NaN score", "oulad/studentAssessment.csv", 3, "score", "not a number"),
    Bad("negative score", "oulad/studentAssessment.csv", 4, "score", "below the minimum 0"),
    Bad("score of 1000", "oulad/studentAssessment.csv", 5, "score", "above the maximum 100"),
    Bad(
        "'maybe' for a boolean",
        "oulad/studentAssessment.csv",
        6,
        "is_banked",
        "not a valid boolean",
    ),
    Bad(
        "unknown assessment",
        "oulad/studentAssessment.csv",
        7,
        "assessment_id",
        "unknown assessment",
    ),
    Bad(
        "unknown assessment (no date anchor)",
        "oulad/studentAssessment.csv",
        7,
        "submitted_date",
        "not a valid date",
    ),
    Bad(
        "presentation code 2014X",
        "oulad/courses.csv",
        3,
        "*",
        "code_presentation is not a year followed by B",
    ),
    # Moodle logstore
    Bad(
        "Unix time beyond any timestamp",
        "moodle/logstore_standard_log.csv",
        3,
        "occurred_at",
        "not a valid timestamptz",
    ),
    Bad(
        "negative Unix time",
        "moodle/logstore_standard_log.csv",
        4,
        "occurred_at",
        "before 1900",
    ),
    Bad(
        "Unix time in 2100",
        "moodle/logstore_standard_log.csv",
        5,
        "occurred_at",
        "in the future",
    ),
    Bad(
        "unknown Moodle user",
        "moodle/logstore_standard_log.csv",
        6,
        "student_id",
        "unknown student",
    ),
    Bad(
        "event with no xAPI verb",
        "moodle/logstore_standard_log.csv",
        7,
        "verb_iri",
        "required value missing",
    ),
    Bad(
        "SQL injection in userid",
        "moodle/logstore_standard_log.csv",
        8,
        "student_id",
        "unknown student",
    ),
    Bad(
        "row with a surplus field",
        "moodle/logstore_standard_log.csv",
        9,
        "*",
        "expected 21 fields, found 22",
    ),
    # Jisc attendance and library
    Bad("'maybe' for attended", "jisc/attendance.tsv", 3, "attended", "not a valid boolean"),
    Bad(
        "MySQL zero date",
        "jisc/attendance.tsv",
        4,
        "start_at",
        "not a valid timestamptz",
    ),
    Bad("event in 2999", "jisc/attendance.tsv", 5, "start_at", "in the future"),
    Bad("event in 1899", "jisc/attendance.tsv", 6, "start_at", "before 1900"),
    Bad("absent student", "jisc/attendance.tsv", 7, "student_id", "unknown student"),
    Bad(
        "event of an unknown module instance",
        "jisc/attendance.tsv",
        8,
        "module_instance_id",
        "unknown module instance",
    ),
    Bad("row cut short", "jisc/attendance.tsv", 9, "*", "expected 10 fields, found 3"),
    Bad("empty event id", "jisc/attendance.tsv", 10, "event_id", "required value missing"),
    Bad("unknown borrower", "jisc/borrowed.tsv", 3, "username", "unknown student"),
    Bad("loan in 2999", "jisc/borrowed.tsv", 4, "borrowed_at", "in the future"),
    Bad("item id of 100 digits", "jisc/borrowed.tsv", 5, "item_id", "longer than 64"),
    Bad("path traversal as username", "jisc/borrowed.tsv", 6, "username", "unknown student"),
    # Case notes
    Bad("truncated first line", "notes/case_notes.jsonl", 1, "*", "not valid JSON"),
    Bad(
        "NUL written as a JSON escape",
        "notes/case_notes.jsonl",
        3,
        "note_text",
        "control character U+0000",
    ),
    Bad(
        "terminal escape sequence in a note",
        "notes/case_notes.jsonl",
        4,
        "note_text",
        "control character U+001B",
    ),
    Bad(
        "raw control byte in a line",
        "notes/case_notes.jsonl",
        5,
        "*",
        "control character U+0007 at column",
    ),
    Bad(
        "path traversal as student id",
        "notes/case_notes.jsonl",
        6,
        "student_id",
        "unknown student",
    ),
    Bad(
        "note id repeated",
        "notes/case_notes.jsonl",
        7,
        "note_id",
        "duplicate of an earlier line in this file",
    ),
    Bad("note without text", "notes/case_notes.jsonl", 8, "note_text", "required"),
    Bad(
        "'yesterday' for a timestamp",
        "notes/case_notes.jsonl",
        9,
        "created_at",
        "not a valid timestamptz",
    ),
    Bad("lone UTF-16 surrogate escape", "notes/case_notes.jsonl", 10, "*", "not valid JSON"),
    Bad("JSON null for a note", "notes/case_notes.jsonl", 11, "*", "not a JSON object"),
    Bad(
        "object for a student id",
        "notes/case_notes.jsonl",
        12,
        "student_id",
        "unknown student",
    ),
    Bad(
        "note of 25,000 characters",
        "drop/notes/oversized-note.jsonl",
        2,
        "note_text",
        "longer than 20000 characters",
    ),
    # Consent events
    Bad("undeclared purpose", "consent/consent.csv", 3, "purpose", "not in the accepted values"),
    Bad("'maybe' for an action", "consent/consent.csv", 4, "action", "not in the accepted values"),
    Bad(
        "SQL tautology as student id",
        "consent/consent.csv",
        5,
        "student_id",
        "unknown student",
    ),
    Bad("DROP TABLE as student id", "consent/consent.csv", 6, "student_id", "unknown student"),
    Bad("month 13", "consent/consent.csv", 7, "occurred_at", "not a valid timestamptz"),
    Bad(
        "event id repeated",
        "consent/consent.csv",
        8,
        "event_id",
        "duplicate of an earlier line in this file",
    ),
    Bad("open quote", "consent/consent.csv", 9, "*", "unreadable quoting"),
    Bad("surplus field", "consent/consent.csv", 10, "*", "expected 5 fields, found 6"),
    # Subject requests
    Bad(
        "unknown request type",
        "requests/subject_requests.jsonl",
        2,
        "request_type",
        "not in the accepted values",
    ),
    Bad(
        "request received in 1850",
        "requests/subject_requests.jsonl",
        3,
        "received_at",
        "before 1900",
    ),
    Bad(
        "request received in 2999",
        "requests/subject_requests.jsonl",
        4,
        "received_at",
        "in the future",
    ),
    Bad(
        "request loaded by an earlier run",
        "requests/subject_requests.jsonl",
        5,
        "request_id",
        "duplicate of a record already loaded",
    ),
    Bad(
        "field name of 100 characters",
        "requests/subject_requests.jsonl",
        6,
        "field",
        "longer than 64 characters",
    ),
    Bad(
        "SQL tautology in a request",
        "requests/subject_requests.jsonl",
        7,
        "student_id",
        "unknown student",
    ),
    Bad(
        "request without an id",
        "requests/subject_requests.jsonl",
        8,
        "request_id",
        "required value missing",
    ),
]


@dataclass(frozen=True)
class Loads:
    """A file that loads: its records (blank lines and the header excluded), the raw table
    its good records land in, and the key (SQL over that table) of each good record."""

    rows_in: int
    table: str
    key: str
    good: frozenset[str]


def loads(rows_in: int, table: str, key: str, *good: str) -> Loads:
    return Loads(rows_in, table, key, frozenset(good))


INJECTED_FILE = "drop/udd/x'; drop table raw.students; --.tsv"
TRAVERSAL_FILE = "drop/udd/extract..%2f..%2fetc%2fpasswd.tsv"
NEWLINE_FILE = "drop/udd/line\nbreak.tsv"

LOADS = {
    "xapi/statements.jsonl": loads(17, "vle_events", "statement_id", uuid(101), uuid(117)),
    "xapi/moodle-export.jsonl": loads(3, "vle_events", "statement_id", uuid(201)),
    "xapi/lrs-envelope.jsonl": loads(3, "vle_events", "statement_id", uuid(301)),
    "xapi/bom-and-latin1.jsonl": loads(
        4, "vle_events", "statement_id", uuid(401), uuid(402), uuid(404)
    ),
    "xapi/utf16.jsonl": loads(3, "vle_events", "statement_id"),
    "xapi/blank-lines-only.jsonl": loads(0, "vle_events", "statement_id"),
    "xapi/document.json": loads(4, "vle_events", "statement_id", uuid(601), uuid(604)),
    "drop/vle/huge-line.jsonl": loads(3, "vle_events", "statement_id", uuid(801), uuid(803)),
    "drop/vle/deeply-nested.jsonl": loads(2, "vle_events", "statement_id", uuid(812)),
    "udd/student-extra-columns.tsv": loads(
        9,
        "students",
        "student_id",
        "S0000101",
        "S0000108'; drop table raw.students; --",
        "../../home/steward/.ssh/id_rsa",
    ),
    "udd/module_instance-missing-column.tsv": loads(2, "module_instances", "module_instance_id"),
    "udd/module-wrong-types.tsv": loads(4, "modules", "module_id", "CS3010"),
    "udd/student-header-only.tsv": loads(0, "students", "student_id"),
    INJECTED_FILE: loads(1, "students", "student_id", "S0000301"),
    TRAVERSAL_FILE: loads(1, "students", "student_id", "S0000302"),
    NEWLINE_FILE: loads(1, "students", "student_id", "S0000303"),
    "oulad/studentVle.csv": loads(
        11,
        "vle_events",
        "statement_id",
        "oulad-vle:AAA-2013J:11391:546652:-10:2",
        "oulad-vle:AAA-2013J:11391:546652:-2:12",
    ),
    "oulad/studentAssessment.csv": loads(6, "assessment_results", "score::varchar", "78.0"),
    "oulad/courses.csv": loads(2, "module_instances", "module_instance_id", "BBB-2014B"),
    "moodle/logstore_standard_log.csv": loads(
        9, "vle_events", "statement_id", "moodle-log:7001", "moodle-log:7009"
    ),
    "jisc/attendance.tsv": loads(10, "attendance", "event_id", "EVT_1", "EVT_11"),
    "jisc/borrowed.tsv": loads(6, "library_loans", "item_id", "6799833234", "6799833239"),
    "notes/case_notes.jsonl": loads(13, "case_notes", "note_id", "N-101", "N-113"),
    "drop/notes/oversized-note.jsonl": loads(3, "case_notes", "note_id", "N-201", "N-203"),
    "consent/consent.csv": loads(10, "consent_events", "event_id", "E-1", "E-11"),
    "requests/subject_requests.jsonl": loads(9, "subject_requests", "request_id", "R-101", "R-109"),
}

NON_UTF8_NAME = os.fsdecode(b"caf\xe9.tsv")
# file -> what the single whole-file quarantine entry says after the file's path
UNRECOGNISED = {
    "udd/student-empty.tsv": ": the file is empty (no header line)",
    "udd/student-latin1.tsv": ":1: header unreadable: not valid UTF-8 (byte 0xc9 at column 35)",
    "udd/student-utf16.tsv": ":1: header unreadable: not valid UTF-8 (byte 0xff at column 1)",
    "udd/student-cr-line-endings.tsv": ":1: header unreadable: lines end in a bare carriage return",
    "udd/student-duplicate-header.tsv": ": the header names 'STUDENT_ID' more than once",
    "drop/udd/caf\\xe9.tsv": ": the file name is not valid UTF-8; rename the file",
    "drop/udd/linked.tsv": ": a symbolic link to ",
}


def statement(n: int, **over) -> bytes:
    record = {
        "id": uuid(n),
        "actor": {"account": {"homePage": "https://vle.example.ac.uk", "name": "S0000002"}},
        "verb": {"id": VIEWED},
        "object": {"id": f"https://vle.example.ac.uk/mod/page/view.php?id={n}"},
        "timestamp": "2025-11-04T09:00:00Z",
    }
    return orjson.dumps(record | over) + b"\n"


def note(n: int, text: str = "Talked through the Networks lab.") -> bytes:
    record = {
        "note_id": f"N-{n}",
        "student_id": "S0000002",
        "staff_id": "STAFF_1",
        "created_at": "2025-10-21T10:00:00Z",
        "text": text,
    }
    return orjson.dumps(record) + b"\n"


def student(student_id: str) -> str:
    return f"STUDENT_ID\tDOB\tSEXID\tETHNICITY\n{student_id}\t2001-01-01\t1\t10\n"


def build_drop(drop: Path, outside: Path) -> None:
    """What cannot be committed: a 40 MB line, hostile file names, a link out of the drop."""
    (drop / "vle").mkdir(parents=True)
    with (drop / "vle" / "huge-line.jsonl").open("wb") as handle:
        handle.write(statement(801))
        handle.write(b'{"id":"')
        handle.write(b"x" * HUGE_LINE_BYTES)
        handle.write(b'"}\n')
        handle.write(statement(803))
    (drop / "vle" / "deeply-nested.jsonl").write_bytes(
        b"[" * NESTING + b"]" * NESTING + b"\n" + statement(812)
    )
    (drop / "notes").mkdir()
    (drop / "notes" / "oversized-note.jsonl").write_bytes(
        note(201) + note(202, "x" * 25_000) + note(203)
    )
    udd = drop / "udd"
    udd.mkdir()
    for name, student_id in (
        (INJECTED_FILE, "S0000301"),
        (TRAVERSAL_FILE, "S0000302"),
        (NEWLINE_FILE, "S0000303"),
        ("drop/udd/" + NON_UTF8_NAME, "S0000305"),
    ):
        (drop.parent / name).write_text(student(student_id))
    outside.parent.mkdir(parents=True)
    outside.write_text(student("S0000304"))
    (udd / "linked.tsv").symlink_to(outside)


def quiet(_message: str) -> None:
    pass


@dataclass
class Landed:
    files: dict[str, FileResult]
    quarantine: dict[str, list[tuple[int, str, str]]]
    totals: dict[str, int]
    ledger: dict[str, int]
    progress: list[str]
    store: Path
    drop: Path


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> Landed:
    root = tmp_path_factory.mktemp("badinput")
    drop = root / "drop"
    build_drop(drop, root / "elsewhere" / "student.tsv")

    def name(source: str) -> str:
        for base, prefix in ((CORPUS, ""), (drop, "drop/")):
            if source.startswith(f"{base}/"):
                return prefix + source.removeprefix(f"{base}/")
        raise AssertionError(f"{source}: not a corpus or drop file")

    progress: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(root / "home"))
        ingest([REFERENCE], progress=quiet)
        summary = ingest([CORPUS, drop], progress=progress.append)
        ledger = check_ledger()
    store = root / "home" / "identified.duckdb"
    with duckdb.connect(str(store), read_only=True) as con:
        rows = con.execute(
            "select source_file, line, field, reason from raw.quarantine "
            "where source_file not like ? order by all",
            [f"{REFERENCE}/%"],
        ).fetchall()
    quarantine: dict[str, list[tuple[int, str, str]]] = {}
    for source, line, field, reason in rows:
        quarantine.setdefault(name(source), []).append((line, field, reason))
    return Landed(
        files={name(f.file): f for f in summary.files},
        quarantine=quarantine,
        totals=summary.totals(),
        ledger=ledger,
        progress=progress,
        store=store,
        drop=drop,
    )


def query(landed: Landed, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(landed.store), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("bad", BAD, ids=[b.kind for b in BAD])
def test_when_a_record_is_broken_then_it_is_quarantined_naming_file_line_field_and_reason(
    landed, bad
):
    entries = landed.quarantine.get(bad.file, [])
    reasons = [reason for line, field, reason in entries if (line, field) == (bad.line, bad.field)]
    assert reasons, f"{bad.file}:{bad.line} {bad.field}: not quarantined; file has {entries}"
    assert any(r.startswith(bad.reason) for r in reasons), reasons


@pytest.mark.parametrize("file", LOADS, ids=[f.replace("\n", "\\n") for f in LOADS])
def test_when_a_file_mixes_broken_and_good_records_then_it_balances_and_the_good_ones_load(
    landed, file
):
    expected = LOADS[file]
    result = landed.files[file]
    bad_lines = {b.line for b in BAD if b.file == file}
    assert result.status == "loaded"
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (
        expected.rows_in,
        expected.rows_in - len(bad_lines),
        len(bad_lines),
    )
    assert {(line, field) for line, field, _ in landed.quarantine.get(file, [])} == {
        (b.line, b.field) for b in BAD if b.file == file
    }, "every quarantine entry of the file is one the corpus expects"
    keys = query(
        landed,
        f"select {expected.key} from raw.{expected.table} where _source_file = ?",
        [result.file],
    )
    assert len(keys) == result.rows_loaded
    assert {key for (key,) in keys} == expected.good


@pytest.mark.parametrize("file", UNRECOGNISED)
def test_when_a_file_cannot_be_read_at_all_then_it_is_quarantined_whole_saying_why(landed, file):
    result = landed.files[file]
    assert result.status == "unrecognised"
    ((line, field, reason),) = landed.quarantine[file]
    assert (line, field) == (0, "*")
    assert reason.startswith(f"unrecognised format: {result.file}{UNRECOGNISED[file]}"), reason


def test_when_the_drop_is_landed_then_every_row_is_accounted_for_and_the_ledger_balances(
    landed,
):
    totals = landed.totals
    assert totals["rows_in"] == totals["rows_loaded"] + totals["rows_quarantined"]
    assert totals["rows_in"] == sum(e.rows_in for e in LOADS.values())
    assert totals["rows_quarantined"] == len({(b.file, b.line) for b in BAD})
    assert totals["files_unrecognised"] == len(UNRECOGNISED)
    assert set(landed.files) == set(LOADS) | set(UNRECOGNISED)
    reference_files = sum(1 for p in REFERENCE.rglob("*") if p.is_file())
    assert landed.ledger == {"files_checked": reference_files + len(LOADS)}


def test_when_ids_and_file_names_hold_sql_or_paths_then_they_are_kept_as_plain_text(landed):
    students = {sid for (sid,) in query(landed, "select student_id from raw.students")}
    assert {"S0000108'; drop table raw.students; --", "../../home/steward/.ssh/id_rsa"} <= (
        students
    )
    assert query(landed, "select count(*) from raw.consent_events") == [(2,)]
    (injected,) = query(
        landed, "select _source_file from raw.students where student_id = 'S0000301'"
    )[0]
    assert injected == str(landed.drop / "udd" / "x'; drop table raw.students; --.tsv")
    (traversal,) = query(
        landed, "select _source_file from raw.students where student_id = 'S0000302'"
    )[0]
    assert Path(traversal).parent == landed.drop / "udd", "%2f is not a path separator"


def test_when_a_link_points_outside_the_drop_then_its_target_is_not_read(landed):
    assert query(landed, "select count(*) from raw.students where student_id = 'S0000304'") == [
        (0,)
    ]
    (reason,) = [r for _, _, r in landed.quarantine["drop/udd/linked.tsv"]]
    assert "S0000304" not in reason
    assert "elsewhere/student.tsv" in reason


def test_when_the_drop_is_landed_then_progress_names_files_and_counts_but_no_values(landed):
    text = "\n".join(landed.progress)
    assert "xapi/statements.jsonl [xapi_jsonl]: 17 in, 2 loaded, 15 quarantined" in text
    for value in ("S0000001", "S0000002", "11391", "u0001", "Compilers", "Networks lab"):
        assert value not in text

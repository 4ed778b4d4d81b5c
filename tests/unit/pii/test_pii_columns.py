"""Column discovery: what a column's values and name say it holds, redaction placeholders
never counting, and new fields of an extract classified before the file is loaded."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import duckdb
import orjson
import pytest

from steward.ingest import ingest
from steward.pii.columns import classify, sample_table
from steward.pii.policy import load_pii_policy
from steward.sources.generator import generate

PHONES = [f"07700 900{n:03d}" for n in range(0, 400, 20)]
EMAILS = [f"{name.lower()}.{n}@student.example.ac.uk" for n, name in enumerate("ABCDEFGHIJ")]
POSTCODES = ["LS6 2QT", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "EH1 1YZ", "SW1A 1AA"]
STUDENT_IDS = [f"S{n:07d}" for n in range(1000, 1020)]
NINOS = ["AB 12 34 56 C", "JG103759A", "CE 12 34 56 D", "ZX 98 76 54 A", "HT 11 22 33 B"]
BIRTH_DATES = ["2004-03-14", "1999-12-01", "2001-07-30", "2003-01-09", "1998-05-22"]
FIRST_NAMES = ["Amelia", "Oliver", "Zofia", "Oluwaseun", "Rahul", "Priya", "Liam", "Grace"]
PSEUDONYMS = ["3f2a9c0d1e2b3c4d5e6f7a8b", "0b1c2d3e4f5a6b7c8d9e0f1a", "9e8d7c6b5a4f3e2d1c0b9a8f"]


@pytest.mark.parametrize(
    ("column", "values", "entity"),
    [
        ("contact", EMAILS, "EMAIL_ADDRESS"),
        ("guardian_phone", PHONES, "UK_PHONE"),
        ("home_postcode", POSTCODES, "UK_POSTCODE"),
        ("ref", STUDENT_IDS, "STUDENT_ID"),
        ("ni", NINOS, "UK_NINO"),
        # a bare date is a birth date only by its column's name
        ("birth_date", BIRTH_DATES, "DATE_OF_BIRTH"),
        # bare first names: the column's name and the values' shape decide
        ("first_name", FIRST_NAMES, "PERSON"),
    ],
)
def test_when_a_column_holds_identifiers_then_it_is_classified_as_their_entity(
    column, values, entity
):
    flagged, _ = classify(column, values)
    assert [c.entity for c in flagged] == [entity]
    assert flagged[0].share >= 0.8


@pytest.mark.parametrize(
    ("column", "values"),
    [
        (
            "module_name",
            ["Machine Learning", "Research Methods", "Digital Business", "Social Theory"],
        ),
        ("region", ["Yorkshire and the Humber", "London", "North West", "South East", "Wales"]),
        ("submitted_date", BIRTH_DATES),
        ("student_pseudonym", PSEUDONYMS),
        ("first_name", PSEUDONYMS),  # a name-like column name alone decides nothing
        ("age_band", ["under 21", "21-24", "25-29", "30-39", "40 and over"]),
    ],
)
def test_when_a_column_holds_no_identifier_then_nothing_is_flagged(column, values):
    flagged, _ = classify(column, values)
    assert flagged == []


REDACTED_NOTES = [
    f"Met <STUDENT:9434765919> about CS1010 today; <PERSON> rang on <UK_PHONE> and asked "
    f"us to use <EMAIL_ADDRESS>. An extension was agreed for week {week}."
    for week in range(20)
]


def test_when_free_text_holds_only_placeholders_then_nothing_counts():
    # the tag's digits pass as an NHS number on their own: inside a placeholder they are not
    flagged, below = classify("redacted_text", REDACTED_NOTES)
    assert (flagged, below) == ([], [])


def test_when_one_free_text_in_twenty_still_names_someone_then_the_column_is_flagged():
    leaky = [*REDACTED_NOTES[:19], "Met Amelia Clarke today; she rang on 07700 900123."]
    flagged, _ = classify("redacted_text", leaky)
    assert {c.entity for c in flagged} == {"PERSON", "UK_PHONE"}
    assert all(c.share == pytest.approx(0.05) for c in flagged)


def _big_table() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        """create table main.events as
        select i as event_id, 'S' || lpad((i % 5000)::varchar, 7, '0') as student_id,
            case when i % 50 = 0 then 'note ' || i end as sparse
        from range(200000) t(i)"""
    )
    return con


def test_when_a_table_is_larger_than_sample_rows_then_values_come_from_one_row_sample():
    policy = dataclasses.replace(load_pii_policy().discovery, sample_rows=20_000)
    con = _big_table()
    sampled = sample_table(con, "main.events", ["event_id", "student_id", "sparse"], policy)
    whole = dataclasses.replace(policy, sample_rows=10**9)  # every row, column by column
    assert sampled == sample_table(con, "main.events", ["event_id", "student_id", "sparse"], policy)
    assert {c: len(v) for c, v in sampled.items()} == {
        "event_id": 200,
        "student_id": 200,
        "sparse": 200,  # a column filled in one row in 50 still yields its values
    }
    assert all(v.startswith("S") for v in sampled["student_id"])
    # the values come from the table, not all from its first rows
    assert max(map(int, sampled["event_id"])) > 100_000
    assert sample_table(con, "main.events", ["sparse"], whole)["sparse"] != sampled["sparse"]


@pytest.fixture(scope="module")
def institution(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("columns-institution")
    generate(out, 12, seed=5, vle_statements=0, workers=1)
    return out


def _with_new_fields(institution: Path, folder: Path) -> Path:
    """The institution's students and case notes, each extract with fields added that
    the contract does not know."""
    folder.mkdir()
    with (institution / "udd" / "student.tsv").open(newline="") as handle:
        students = list(csv.DictReader(handle, delimiter="\t"))
    with (folder / "student.tsv").open("w", newline="") as handle:
        fields = [*students[0], "GUARDIAN_PHONE", "X_HALL"]
        writer = csv.DictWriter(handle, fields, delimiter="\t", lineterminator="\n")
        writer.writeheader()
        for row in students:
            writer.writerow({**row, "GUARDIAN_PHONE": row["MOBILE_PHONE"], "X_HALL": "Elgar"})
    notes = [orjson.loads(line) for line in (institution / "notes" / "case_notes.jsonl").open()]
    emails = {row["STUDENT_ID"]: row["PRIMARY_EMAIL_ADDRESS"] for row in students}
    (folder / "case_notes.jsonl").write_bytes(
        b"".join(
            orjson.dumps({**note, "parent_email": emails[note["student_id"]]}) + b"\n"
            for note in notes
        )
    )
    return folder


def test_when_extracts_bring_new_fields_then_they_are_classified_before_load(
    steward_home, institution, tmp_path
):
    folder = _with_new_fields(institution, tmp_path / "extracts")
    messages: list[str] = []

    ingest([folder], progress=messages.append)

    audit = duckdb.connect(str(steward_home / "audit.duckdb"), read_only=True)
    findings = audit.execute(
        "select table_name, column_name, entity, verdict from pii_findings "
        "where store = 'landing' order by 1, 2"
    ).fetchall()
    recorded = " ".join(map(str, audit.execute("select * from pii_findings").fetchall()))
    audit.close()
    assert findings == [
        ("case_notes", "parent_email", "EMAIL_ADDRESS", "undeclared"),
        ("udd_student", "GUARDIAN_PHONE", "UK_PHONE", "undeclared"),
        ("udd_student", "X_HALL", None, "clean"),
    ]
    assert any("GUARDIAN_PHONE (UK_PHONE)" in m for m in messages), messages
    with (institution / "udd" / "student.tsv").open(newline="") as handle:
        phones = [row["MOBILE_PHONE"] for row in csv.DictReader(handle, delimiter="\t")]
    assert not any(phone in recorded for phone in phones), "a finding holds a value"
    identified = duckdb.connect(str(steward_home / "identified.duckdb"), read_only=True)
    loaded = {
        name
        for (name,) in identified.execute(
            "select column_name from duckdb_columns() where table_name = 'students'"
        ).fetchall()
    }
    identified.close()
    assert not {"GUARDIAN_PHONE", "guardian_phone", "X_HALL", "x_hall"} & loaded


def test_when_a_known_new_field_arrives_again_then_it_is_not_classified_again(
    steward_home, institution, tmp_path
):
    first = _with_new_fields(institution, tmp_path / "first")
    ingest([first / "student.tsv"], progress=lambda _m: None)
    again = tmp_path / "again"
    again.mkdir()
    lines = (first / "student.tsv").read_text().splitlines(keepends=True)
    (again / "student.tsv").write_text("".join(lines[:-1]))  # other content, same fields
    messages: list[str] = []

    ingest([again], progress=messages.append)

    audit = duckdb.connect(str(steward_home / "audit.duckdb"), read_only=True)
    rows = audit.execute("select count(*) from pii_findings where store = 'landing'").fetchone()
    audit.close()
    assert rows == (2,)
    assert not any("new field" in m for m in messages)

"""Jisc recipe TSV inputs: attendance and library borrowing parse into canonical rows, and
impossible dates in the attendance example are quarantined, not guessed at."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.ingest import ingest
from steward.sources import parse_file


@pytest.fixture(scope="module")
def recipes(shared_data: Path) -> Path:
    return shared_data / "xapi" / "jisc" / "recipes"


def quiet(_message: str) -> None:
    pass


def test_when_the_attendance_tsv_is_parsed_then_each_row_is_an_attendance(recipes):
    parsed = parse_file(recipes / "attendance" / "tsv" / "attendance.tsv")
    rows = parsed["attendance"]
    assert parsed["_problems"] == []
    assert len(rows) == 25
    assert rows[0] == {
        "_line": 2,
        "student_id": "STU44444",
        "event_id": "EVT_11111",
        "event_name": "Brand Managemnet",
        "event_type": "SEMINAR",
        "start_at": "2017-10-12T14:00:00",
        "end_at": "2017-10-12T16:00:00",
        "attended": "1",
        "late": "0",
        "staff_id": "STAFF_11111",
        "module_instance_id": "MOD_11111",
        "course_instance_id": "COURSE_11111",
    }
    assert rows[1]["late"] is None  # not attended: lateness left empty


def test_when_the_library_tsv_is_parsed_then_each_row_is_a_loan(recipes):
    parsed = parse_file(recipes / "library" / "tsv" / "borrowed.tsv")
    rows = parsed["library_loans"]
    assert parsed["_problems"] == []
    assert len(rows) == 1_097
    assert rows[0] == {
        "_line": 2,
        "username": "1001",
        "item_id": "6799833234",
        "item_name": "I'm a Book: Book 1",
        "item_subtype": "BOOK",
        "site": "Library",
        "borrowed_at": "2020-09-19",
    }


def test_when_attendance_has_months_13_and_14_then_those_rows_are_quarantined(
    steward_home, recipes
):
    # The recipe's example counts events 10..14 in the month position (2017-13-12).
    summary = ingest([recipes / "attendance" / "tsv" / "attendance.tsv"], progress=quiet)
    (result,) = summary.files
    assert result.rows_in == 25
    assert result.rows_loaded + result.rows_quarantined == 25
    assert result.reasons["start_at: not a valid timestamptz"] == 10
    assert result.reasons["end_at: not a valid timestamptz"] == 10


def test_when_a_loan_is_dated_29_february_2021_then_it_is_quarantined(steward_home, recipes):
    summary = ingest([recipes / "library" / "tsv" / "borrowed.tsv"], progress=quiet)
    (result,) = summary.files
    assert result.rows_in == 1_097
    assert result.rows_loaded + result.rows_quarantined == 1_097
    assert result.reasons["borrowed_at: not a valid timestamptz"] == 7

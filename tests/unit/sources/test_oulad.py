"""OULAD: the real Open University CSV folder parses into canonical rows with `?` as NULL,
UDD codes, absolute dates, and loads in an order that satisfies its references."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from steward.ingest import ingest
from steward.sources import parse_file

# Rows per file in the shared folder (OULAD.names; studentVle is its first 13,905 rows).
ROWS_IN = {
    "courses.csv": 22,
    "assessments.csv": 206,
    "studentInfo.csv": 32_593,
    "studentRegistration.csv": 32_593,
    "studentAssessment.csv": 173_912,
    "vle.csv": 6_364,
    "studentVle_head13905.csv": 13_905,
}


def quiet(_message: str) -> None:
    pass


def query(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "identified.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def oulad(shared_data: Path) -> Path:
    return shared_data / "oulad"


@pytest.fixture(scope="module")
def parsed(oulad: Path):
    """parse_file of an OULAD file by name, each file parsed once per module."""
    cache: dict[str, dict[str, list[dict]]] = {}

    def parse(name: str) -> dict[str, list[dict]]:
        if name not in cache:
            cache[name] = parse_file(oulad / name)
        return cache[name]

    return parse


@pytest.fixture(scope="module")
def student_info(parsed) -> dict[str, list[dict]]:
    return parsed("studentInfo.csv")


@pytest.fixture(scope="module")
def folder_load(oulad: Path, tmp_path_factory: pytest.TempPathFactory):
    """The whole OULAD folder ingested once into a fresh store: (summary, home)."""
    home = tmp_path_factory.mktemp("oulad-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        summary = ingest([oulad], progress=quiet)
    return summary, home


def by_line(rows: list[dict], line: int) -> dict:
    return next(r for r in rows if r["_line"] == line)


def test_when_student_info_is_parsed_then_every_row_gives_a_student_and_an_enrolment(
    student_info,
):
    assert len(student_info["students"]) == 32_593
    assert len(student_info["enrolments"]) == 32_593
    assert student_info["_problems"] == []


def test_when_student_info_has_question_marks_then_they_become_null(student_info):
    students = student_info["students"]
    assert sum(r["imd_band"] is None for r in students) == 1_111
    assert not any(value == "?" for r in students for value in r.values())


@pytest.mark.parametrize(
    ("line", "student", "expected"),
    [
        # "AAA","2013J","11391","M",...,"90-100%","55<=","0","240","N","Pass"
        (2, {"student_id": "11391", "sex": "1", "disability": "1", "imd_band": "90-100%"},
         {"enrolment_id": "AAA-2013J-11391", "result": "1", "agreed_grade": "Pass",
          "prior_attempts": "0", "studied_credits": "240"}),
        # "AAA","2013J","30268","F",...,"30-40%","35-55","0","60","Y","Withdrawn"
        (4, {"student_id": "30268", "sex": "2", "disability": "7", "age_band": "35-55"},
         {"enrolment_id": "AAA-2013J-30268", "result": "3", "agreed_grade": None,
          "module_instance_id": "AAA-2013J"}),
    ],
)  # fmt: skip
def test_when_student_info_is_parsed_then_codes_follow_udd(student_info, line, student, expected):
    parsed_student = by_line(student_info["students"], line)
    parsed_enrolment = by_line(student_info["enrolments"], line)
    assert {k: parsed_student[k] for k in student} == student
    assert {k: parsed_enrolment[k] for k in expected} == expected


@pytest.mark.parametrize(
    ("final_result", "result"),
    [("Pass", "1"), ("Distinction", "1"), ("Fail", "2"), ("Withdrawn", "3")],
)
def test_when_final_result_is_given_then_it_maps_to_mod_result(
    student_info, oulad, final_result, result
):
    lines = [
        number
        for number, text in enumerate((oulad / "studentInfo.csv").read_text().splitlines(), 1)
        if text.endswith(f'"{final_result}"')
    ]
    enrolments = {r["_line"]: r for r in student_info["enrolments"]}
    assert {enrolments[n]["result"] for n in lines} == {result}


def test_when_imd_band_lacks_its_percent_sign_then_it_is_written_like_the_others(student_info):
    bands = {r["imd_band"] for r in student_info["students"]} - {None}
    assert "10-20%" in bands
    assert all(band.endswith("%") for band in bands)


@pytest.mark.parametrize(
    ("module_instance_id", "start", "end", "academic_year", "period"),
    [
        ("AAA-2013J", "2013-10-01", "2014-06-26", "2013", "J"),  # 268 days
        ("BBB-2014B", "2014-02-01", "2014-09-23", "2013", "B"),  # 234 days
        ("DDD-2013B", "2013-02-01", "2013-09-29", "2012", "B"),  # 240 days
    ],
)
def test_when_courses_are_parsed_then_presentations_start_on_the_first_of_february_or_october(
    parsed, module_instance_id, start, end, academic_year, period
):
    courses = parsed("courses.csv")
    row = next(
        r for r in courses["module_instances"] if r["module_instance_id"] == module_instance_id
    )
    assert (row["start_date"], row["end_date"]) == (start, end)
    assert (row["academic_year"], row["period"]) == (academic_year, period)
    assert len(courses["modules"]) == 22


@pytest.mark.parametrize(
    ("file", "target", "line", "column", "expected"),
    [
        # "AAA","2013J","11391","-159","?": registered 159 days before 2013-10-01
        ("studentRegistration.csv", "enrolments", 2, "registration_date", "2013-04-25"),
        ("studentRegistration.csv", "enrolments", 2, "withdrawal_date", None),
        # "AAA","2013J","30268","-92","12": withdrew on day 12
        ("studentRegistration.csv", "enrolments", 4, "withdrawal_date", "2013-10-13"),
        # "AAA","2013J","1752","TMA","19","10"
        ("assessments.csv", "assessments", 2, "due_date", "2013-10-20"),
        # AAA,2013J,28400,546652,-10,4
        ("studentVle_head13905.csv", "vle_events", 2, "occurred_at", "2013-09-21T00:00:00Z"),
    ],
)
def test_when_dates_are_relative_to_the_presentation_then_they_become_absolute(
    parsed, file, target, line, column, expected
):
    assert by_line(parsed(file)[target], line)[column] == expected


def test_when_registration_is_parsed_then_only_identity_and_dates_are_carried(parsed):
    rows = parsed("studentRegistration.csv")["enrolments"]
    assert len(rows) == 32_593
    carried = {k for r in rows for k, v in r.items() if v is not None}
    assert carried == {
        "_line",
        "enrolment_id",
        "student_id",
        "module_instance_id",
        "registration_date",
        "withdrawal_date",
    }


def test_when_student_vle_is_parsed_then_each_row_is_a_viewed_event_with_its_clicks(parsed):
    row = by_line(parsed("studentVle_head13905.csv")["vle_events"], 2)
    assert row == {
        "_line": 2,
        "statement_id": "oulad-vle:AAA-2013J:28400:546652:-10:2",
        "student_id": "28400",
        "verb_iri": "http://id.tincanapi.com/verb/viewed",
        "verb": "viewed",
        "object_id": "oulad:site:546652",
        "module_instance_id": "AAA-2013J",
        "occurred_at": "2013-09-21T00:00:00Z",
        "event_count": "4",
        "source_format": "oulad",
    }


def test_when_student_info_is_ingested_with_courses_then_rows_in_equal_loaded_plus_quarantined(
    steward_home, oulad
):
    summary = ingest([oulad / "courses.csv", oulad / "studentInfo.csv"], progress=quiet)
    result = next(f for f in summary.files if f.file.endswith("studentInfo.csv"))
    assert result.rows_in == 32_593
    assert result.rows_loaded + result.rows_quarantined == 32_593
    loaded = query(steward_home, "select count(*) from raw.students")[0][0]
    quarantined = query(
        steward_home,
        "select count(distinct line) from raw.quarantine where source_file like '%studentInfo.csv'",
    )[0][0]
    assert loaded + quarantined == 32_593


def test_when_submissions_are_ingested_after_their_assessments_then_dates_are_absolute(
    steward_home, oulad, tmp_path
):
    extracts = tmp_path / "extracts"
    extracts.mkdir()
    # Students from the student record system; the first submissions from OULAD.
    (extracts / "students.tsv").write_text(
        "STUDENT_ID\tDOB\tSEXID\tETHNICITY\n"
        "11391\t1960-01-01\t1\t10\n28400\t1970-01-01\t2\t10\n31604\t1980-01-01\t2\t10\n"
    )
    head = (oulad / "studentAssessment.csv").read_text().splitlines()[:4]
    (extracts / "studentAssessment.csv").write_text("\n".join(head) + "\n")
    summary = ingest([oulad / "courses.csv", oulad / "assessments.csv", extracts], progress=quiet)
    assert summary.totals()["rows_quarantined"] == 0
    rows = query(
        steward_home,
        "select student_id, submitted_date::varchar, is_banked, score "
        "from raw.assessment_results order by _line",
    )
    # 1752 belongs to AAA-2013J (2013-10-01); submitted on days 18, 22 and 17
    assert rows == [
        ("11391", "2013-10-19", False, 78.0),
        ("28400", "2013-10-23", False, 70.0),
        ("31604", "2013-10-18", False, 72.0),
    ]


def test_when_submissions_are_parsed_without_a_store_then_all_rows_come_through(oulad):
    rows = parse_file(oulad / "studentAssessment.csv")["assessment_results"]
    assert len(rows) == 173_912
    assert sum(r["score"] is None for r in rows) == 173  # empty in the unquoted file


@pytest.mark.parametrize(("file", "rows_in"), ROWS_IN.items())
def test_when_the_oulad_folder_is_ingested_then_every_row_is_loaded_or_quarantined(
    folder_load, file, rows_in
):
    summary, _home = folder_load
    result = next(f for f in summary.files if Path(f.file).name == file)
    assert result.status == "loaded"
    assert result.rows_in == rows_in
    assert result.rows_loaded + result.rows_quarantined == rows_in


def test_when_the_oulad_folder_is_ingested_then_referenced_tables_load_first(folder_load):
    summary, _home = folder_load
    position = {Path(f.file).name: i for i, f in enumerate(summary.files)}
    must_precede = [
        ("courses.csv", "studentInfo.csv"),  # module_instances <- enrolments
        ("courses.csv", "assessments.csv"),
        ("courses.csv", "vle.csv"),
        ("studentInfo.csv", "studentRegistration.csv"),  # students <- enrolments
        ("studentInfo.csv", "studentAssessment.csv"),
        ("assessments.csv", "studentAssessment.csv"),
        ("studentInfo.csv", "studentVle_head13905.csv"),
    ]
    assert [(a, b) for a, b in must_precede if position[a] > position[b]] == []


def test_when_the_oulad_folder_is_ingested_then_every_row_loads_with_its_references(
    folder_load,
):
    summary, home = folder_load
    assert {
        Path(f.file).name: f.rows_quarantined for f in summary.files if f.format != "unknown"
    } == {name: 0 for name in ROWS_IN}
    counts = {
        table: query(home, f"select count(*) from raw.{table}")[0][0]
        for table in ("students", "enrolments", "assessment_results", "vle_sites", "vle_events")
    }
    assert counts == {
        "students": 32_593,
        "enrolments": 2 * 32_593,  # one row from studentInfo, one from studentRegistration
        "assessment_results": 173_912,
        "vle_sites": 6_364,
        "vle_events": 13_905,
    }

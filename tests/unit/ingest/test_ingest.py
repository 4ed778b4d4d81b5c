"""Ingest: validation against the contract, quarantine with reasons, exact accounting,
idempotence and all-or-nothing loads."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from steward import ingest as ingest_module
from steward.ingest import check_ledger, ingest

STUDENT_HEADER = "STUDENT_ID\tUSERNAME\tDOB\tSEXID\tETHNICITY\tPOSTCODE\tPROVIDED_AT"
GOOD_STUDENTS = [
    "S0000001\tuser1\t2001-02-03\t1\t10\tLS1 4AP\t2026-01-01T00:00:00Z",
    "S0000002\tuser2\t2000-12-31\t2\t22\tCF10 3AT\t2026-01-01T00:00:00Z",
]
MODULES = (
    "MOD_INSTANCE_ID\tMOD_ID\tMOD_ACADEMIC_YEAR\tX_START_DATE\tX_END_DATE\n"
    "CS1010-2025\tCS1010\t2025\t2025-10-01\t2026-06-30\n"
)
STATEMENT = (
    '{{"id":"{id}","actor":{{"objectType":"Agent","account":{{"homePage":"https://vle.example.ac.uk",'
    '"name":"{student}"}}}},"verb":{{"id":"{verb}"}},"object":{{"id":"https://vle.example.ac.uk/course/1"}},'
    '"timestamp":"{ts}","context":{{"extensions":{{"http://xapi.jisc.ac.uk/courseArea":'
    '{{"http://xapi.jisc.ac.uk/vle_mod_id":"CS1010-2025"}}}}}}}}'
)
VIEWED = "http://id.tincanapi.com/verb/viewed"


def statement(n: int, student="S0000001", verb=VIEWED, ts="2025-11-03T10:00:00Z") -> str:
    return STATEMENT.format(
        id=f"00000000-0000-0000-0000-{n:012d}", student=student, verb=verb, ts=ts
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def extracts(tmp_path: Path) -> Path:
    folder = tmp_path / "extracts"
    write(folder, "udd/student.tsv", "\n".join([STUDENT_HEADER, *GOOD_STUDENTS]) + "\n")
    write(folder, "udd/module_instance.tsv", MODULES)
    return folder


def query(home: Path, sql: str):
    con = duckdb.connect(str(home / "identified.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def quiet(_message: str) -> None:
    pass


def test_when_a_folder_is_ingested_then_rows_land_with_lineage(steward_home, extracts):
    summary = ingest([extracts], progress=quiet)
    assert summary.totals()["rows_loaded"] == 3
    rows = query(
        steward_home,
        "select student_id, birth_date::varchar, _line, _source_file from raw.students order by 1",
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("S0000001", "2001-02-03", 2),
        ("S0000002", "2000-12-31", 3),
    ]
    assert all(r[3].endswith("student.tsv") for r in rows)


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (
            "S0000003\tu3\t2101-01-01\t1\t10\tLS1 4AP\t2026-01-01T00:00:00Z",
            "birth_date",
            "in the future",
        ),
        (
            "S0000003\tu3\t1850-01-01\t1\t10\tLS1 4AP\t2026-01-01T00:00:00Z",
            "birth_date",
            "before 1900",
        ),
        (
            "S0000003\tu3\t2001-13-45\t1\t10\tLS1 4AP\t2026-01-01T00:00:00Z",
            "birth_date",
            "not a valid date",
        ),
        (
            "S0000003\tu3\t2001-01-01\t9\t10\tLS1 4AP\t2026-01-01T00:00:00Z",
            "sex",
            "not in code list SEXID",
        ),
        (
            "S0000003\tu3\t2001-01-01\t1\t77\tLS1 4AP\t2026-01-01T00:00:00Z",
            "ethnicity",
            "not in code list ETHNICITY",
        ),
        (
            "\tu3\t2001-01-01\t1\t10\tLS1 4AP\t2026-01-01T00:00:00Z",
            "student_id",
            "required value missing",
        ),
        ("S0000003\tu3\t2001-01-01\t1\t10", "*", "expected 7 fields, found 5"),
        (
            "S0000003\tu3\t2001-01-01\t1\t10\tLS1\x014AP\t2026-01-01T00:00:00Z",
            "*",
            "control character U+0001",
        ),
    ],
)
def test_when_a_student_row_breaks_the_contract_then_it_is_quarantined_with_line_field_and_reason(
    steward_home, tmp_path, row, field, reason
):
    folder = tmp_path / "in"
    write(folder, "student.tsv", "\n".join([STUDENT_HEADER, GOOD_STUDENTS[0], row]) + "\n")
    summary = ingest([folder], progress=quiet)
    assert (summary.totals()["rows_in"], summary.totals()["rows_loaded"]) == (2, 1)
    (line, got_field, got_reason, source) = query(
        steward_home, "select line, field, reason, source_file from raw.quarantine"
    )[0]
    assert (line, got_field) == (3, field)
    assert got_reason.startswith(reason)
    assert source.endswith("student.tsv")


def test_when_students_carry_entry_qualifications_then_tariffs_load_and_bad_ones_are_quarantined(
    steward_home, tmp_path
):
    header = f"{STUDENT_HEADER}\tENTRY_QUALS\tENTRY_POINTS\tENTRY_POINTS_SCHEMA"
    third = "S0000003\tu3\t2001-01-01\t1\t10\tLS1 4AP\t2026-01-01T00:00:00Z"
    fourth = third.replace("S0000003\tu3", "S0000004\tu4")
    rows = [
        f"{GOOD_STUDENTS[0]}\tP50\t128\tUCAS_17",
        f"{GOOD_STUDENTS[1]}\tX02\t\t",
        f"{third}\tZ99\t96\tUCAS_17",
        f"{fourth}\tP50\t-8\tUCAS_17",
    ]
    write(tmp_path / "in", "student.tsv", "\n".join([header, *rows]) + "\n")

    summary = ingest([tmp_path / "in"], progress=quiet)

    assert summary.totals()["rows_loaded"] == 2
    loaded = query(
        steward_home,
        "select student_id, entry_quals, entry_points, nullif(entry_points_schema, '') "
        "from raw.students order by 1",
    )
    assert loaded == [("S0000001", "P50", 128, "UCAS_17"), ("S0000002", "X02", None, None)]
    quarantined = query(steward_home, "select line, field, reason from raw.quarantine order by 1")
    assert [(line, field) for line, field, _ in quarantined] == [
        (4, "entry_quals"),
        (5, "entry_points"),
    ]
    assert quarantined[0][2].startswith("not in code list ENTRY_QUALS")
    assert quarantined[1][2].startswith("below the minimum 0")


def test_when_statements_are_bad_then_each_reason_is_named_and_good_ones_load(
    steward_home, extracts
):
    lines = [
        statement(1),
        statement(2, student="S9999999"),
        statement(3, verb="http://example.com/verbs/danced"),
        statement(4, ts="2099-01-01T00:00:00Z"),
        statement(1),  # the same statement id again
        '{"id": "truncated',
        "",
        statement(5).replace('"timestamp":"2025-11-03T10:00:00Z",', ""),
    ]
    write(extracts, "vle/xapi-0001.jsonl", "\n".join(lines) + "\n")
    ingest([extracts], progress=quiet)
    reasons = query(
        steward_home,
        "select line, field, reason from raw.quarantine where source_file like '%xapi%' order by line",
    )
    assert reasons == [
        (2, "student_id", "unknown student"),
        (3, "verb_iri", "not in the accepted values"),
        (4, "occurred_at", "in the future"),
        (5, "statement_id", "duplicate of an earlier line in this file"),
        (6, "*", "not valid JSON"),
        (8, "occurred_at", "required value missing"),
    ]
    assert query(steward_home, "select statement_id, verb from raw.vle_events") == [
        ("00000000-0000-0000-0000-000000000001", "viewed")
    ]
    assert query(
        steward_home,
        "select rows_in, rows_loaded, rows_quarantined from raw.loaded_files where source_file like '%xapi%'",
    ) == [(7, 1, 6)]


def test_when_a_folder_is_ingested_twice_then_the_second_run_changes_nothing(
    steward_home, extracts
):
    ingest([extracts], progress=quiet)
    before = query(steward_home, "select count(*) from raw.students")[0][0]
    second = ingest([extracts], progress=quiet)
    assert second.totals()["files_skipped"] == 2
    assert second.totals()["rows_loaded"] == 0
    assert query(steward_home, "select count(*) from raw.students")[0][0] == before


def test_when_a_load_fails_half_way_then_no_row_of_that_file_remains_and_a_rerun_completes(
    steward_home, extracts, monkeypatch
):
    def boom(*_args, **_kwargs):
        raise RuntimeError("injected failure after rows were inserted")

    with monkeypatch.context() as patch:
        patch.setattr(ingest_module, "_record_ledger", boom)
        with pytest.raises(RuntimeError, match="injected failure"):
            ingest([extracts], progress=quiet)
    assert query(steward_home, "select count(*) from raw.students") == [(0,)]
    assert query(steward_home, "select count(*) from raw.loaded_files") == [(0,)]
    summary = ingest([extracts], progress=quiet)
    assert summary.totals()["rows_loaded"] == 3
    assert query(steward_home, "select count(*) from raw.students") == [(2,)]


def test_when_a_file_has_an_unknown_header_then_it_is_reported_and_kept(steward_home, extracts):
    write(extracts, "mystery.csv", "colour,flavour\nred,sweet\n")
    summary = ingest([extracts], progress=quiet)
    unrecognised = [f for f in summary.files if f.status == "unrecognised"]
    assert [Path(f.file).name for f in unrecognised] == ["mystery.csv"]
    (reason,) = query(
        steward_home, "select reason from raw.quarantine where source_file like '%mystery%'"
    )[0]
    assert "no known format" in reason and "colour" in reason
    assert (extracts / "mystery.csv").exists()


def test_when_the_ledger_balances_then_check_ledger_passes_and_when_tampered_it_names_the_file(
    steward_home, extracts
):
    write(extracts, "vle/xapi-0001.jsonl", statement(1) + "\nnot json\n")
    ingest([extracts], progress=quiet)
    assert check_ledger()["files_checked"] == 3
    con = duckdb.connect(str(steward_home / "identified.duckdb"))
    con.execute(
        "update raw.loaded_files set rows_loaded = rows_loaded + 1 where source_file like '%xapi%'"
    )
    con.close()
    with pytest.raises(RuntimeError, match=r"xapi-0001\.jsonl: 2 in != 2 loaded \+ 1 quarantined"):
        check_ledger()


def test_when_a_file_starts_with_a_byte_order_mark_then_the_header_is_still_recognised(
    steward_home, tmp_path
):
    folder = tmp_path / "bom"
    path = folder / "student.tsv"
    folder.mkdir()
    path.write_bytes(
        b"\xef\xbb\xbf" + ("\n".join([STUDENT_HEADER, *GOOD_STUDENTS]) + "\n").encode()
    )
    summary = ingest([folder], progress=quiet)
    assert summary.totals()["rows_loaded"] == 2


def test_when_a_line_is_not_utf8_then_it_is_quarantined_and_the_rest_load(steward_home, tmp_path):
    folder = tmp_path / "latin1"
    folder.mkdir()
    body = (
        "\n".join([STUDENT_HEADER, *GOOD_STUDENTS]).encode()
        + b"\nS0000009\tu9\t2001-01-01\t1\t10\tL\xe9S1\t2026-01-01T00:00:00Z\n"
    )
    (folder / "student.tsv").write_bytes(body)
    summary = ingest([folder], progress=quiet)
    assert (summary.totals()["rows_loaded"], summary.totals()["rows_quarantined"]) == (2, 1)
    assert query(steward_home, "select line, reason from raw.quarantine")[0][1].startswith(
        "not valid UTF-8"
    )


def test_when_a_folder_has_a_stewardignore_then_the_named_files_and_folders_are_skipped(
    steward_home, extracts
):
    write(extracts, ".stewardignore", "# not extracts\ntruth/\nREADME.md\n")
    write(extracts, "truth/answers.csv", "colour,flavour\nred,sweet\n")
    write(extracts, "README.md", "what is in this drop\n")
    summary = ingest([extracts], progress=quiet)
    assert sorted(Path(f.file).name for f in summary.files) == [
        "module_instance.tsv",
        "student.tsv",
    ]


def test_when_a_drop_with_its_own_stewardignore_lands_in_a_subfolder_then_it_still_applies(
    steward_home, extracts
):
    landing = extracts.parent
    write(extracts, ".stewardignore", "truth/\nmanifest.json\n")
    write(extracts, "truth/answers.csv", "colour,flavour\nred,sweet\n")
    write(extracts, "manifest.json", '{"students": 2}\n')
    write(landing, "other/truth/kept.csv", "colour,flavour\nred,sweet\n")
    summary = ingest([landing], progress=quiet)
    assert sorted(Path(f.file).name for f in summary.files) == [
        "kept.csv",
        "module_instance.tsv",
        "student.tsv",
    ]


def test_when_items_are_read_ahead_then_they_come_in_order_with_errors_where_they_arose():
    produced = []

    def items():
        for n in range(5):
            produced.append(n)
            if n == 3:
                raise ValueError("line 3 unreadable")
            yield n

    got = []
    with pytest.raises(ValueError, match="line 3 unreadable"):
        for item in ingest_module.read_ahead(items()):
            got.append(item)
    assert got == [0, 1, 2]
    assert produced == [0, 1, 2, 3]


def test_when_the_reader_stops_early_then_at_most_one_item_was_read_ahead():
    produced = []

    def items():
        for n in range(100):
            produced.append(n)
            yield n

    ahead = ingest_module.read_ahead(items())
    assert [next(ahead), next(ahead)] == [0, 1]
    ahead.close()
    assert produced == [0, 1, 2]

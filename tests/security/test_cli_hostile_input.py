"""Hostile identifiers and paths given to the `steward` command: SQL in ids, table and column
names, path traversal in versions and file arguments. Each gives a clean error (exit 2, the
problem named, no traceback) and changes nothing; what sits outside the expected places is
never read into a store or printed."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import duckdb
import pytest

from steward.cli import main

TAUTOLOGY = "x' or '1'='1"
DROP = 'people"; drop table people; --'
SECRET = "root:x:0:0:secret-marker-7f3a:/root:/bin/bash"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def planted(tmp_path, monkeypatch) -> Path:
    """A working folder two levels down, with `../../etc/passwd` holding a marker and
    `../../etc/card.md` beside it: where a traversal would land."""
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(SECRET + "\n")
    (etc / "card.md").write_text(f"# not a model card {SECRET}\n")
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    return etc


@pytest.fixture
def people_db(tmp_path) -> Path:
    path = tmp_path / "people.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create table people as select * from (values ('a', 1), ('b', 2)) t(a, n)")
    return path


def test_when_ingest_is_given_sql_for_a_path_then_it_errors_naming_it_and_creates_nothing(
    steward_home, capsys
):
    code, _out, err = run(["ingest", TAUTOLOGY], capsys)
    assert code == 2
    assert f"{TAUTOLOGY}: no such file or folder" in err
    assert "Traceback" not in err
    assert not (steward_home / "identified.duckdb").exists()


def test_when_ingest_is_pointed_at_a_system_file_then_its_content_reaches_no_store(
    steward_home, planted, capsys
):
    code, out, _err = run(["ingest", "../../etc/passwd"], capsys)
    assert code == 0
    assert "passwd: unrecognised format, whole file quarantined" in out
    assert "secret-marker" not in out
    with duckdb.connect(str(steward_home / "identified.duckdb"), read_only=True) as con:
        (reason,) = con.execute("select reason from raw.quarantine").fetchone()
        loaded = con.execute("select count(*) from raw.students").fetchone()[0]
    assert "unsupported file type '(none)'" in reason
    assert "secret-marker" not in reason
    assert loaded == 0


@pytest.mark.parametrize("version", ["../../etc", "../../../../etc", "/etc", ".."])
def test_when_a_model_version_is_a_path_then_card_refuses_it_without_reading_outside(
    steward_home, planted, capsys, version
):
    (steward_home / "models").mkdir(parents=True)
    code, out, err = run(["model", "card", "--version", version], capsys)
    assert code == 2
    assert f"{version!r} is not a model version" in err
    assert "secret-marker" not in out + err


def test_when_a_model_version_holds_sql_then_card_says_there_is_no_such_card(steward_home, capsys):
    code, out, err = run(["model", "card", "--version", TAUTOLOGY], capsys)
    assert code == 2
    assert f"no model card for version {TAUTOLOGY}" in err
    assert out == "" and "Traceback" not in err


@pytest.mark.parametrize("table", [TAUTOLOGY, DROP, "people; drop table people"])
def test_when_risk_measure_names_a_hostile_table_then_it_errors_and_the_database_is_unchanged(
    people_db, capsys, table
):
    before = digest(people_db)
    code, _out, err = run(
        ["risk", "measure", str(people_db), "--table", table, "--qi", "a"], capsys
    )
    assert code == 2
    assert f"no table {table!r}" in err
    assert digest(people_db) == before


@pytest.mark.parametrize("column", [TAUTOLOGY, DROP, 'a" from people; drop table people; --'])
def test_when_risk_measure_names_a_hostile_column_then_it_errors_and_the_database_is_unchanged(
    people_db, capsys, column
):
    before = digest(people_db)
    code, _out, err = run(
        ["risk", "measure", str(people_db), "--table", "people", "--qi", column], capsys
    )
    assert code == 2
    assert f"no column {column!r}" in err
    assert digest(people_db) == before
    with duckdb.connect(str(people_db), read_only=True) as con:
        assert con.execute("select count(*) from people").fetchone() == (2,)


def test_when_risk_measure_gets_sql_as_a_delimiter_then_it_is_a_literal_that_fails_cleanly(
    tmp_path, capsys
):
    source = tmp_path / "people.csv"
    source.write_text("a,n\nx,1\ny,2\n")
    code, _out, err = run(
        ["risk", "measure", str(source), "--qi", "a", "--delimiter", "'); drop table x; --"],
        capsys,
    )
    assert code == 2
    assert f"{source}: cannot read as CSV" in err and "Traceback" not in err


def test_when_release_is_given_a_system_file_as_policy_then_it_errors_without_echoing_it(
    steward_home, planted, capsys
):
    code, out, err = run(["release", "--policy", "../../etc/passwd"], capsys)
    assert code == 2
    assert "../../etc/passwd: not a release policy" in err
    assert "secret-marker" not in out + err
    assert not (steward_home / "analyst.duckdb").exists()


def test_when_pii_scan_text_reads_a_system_file_then_it_names_the_line_not_its_content(
    planted, tmp_path, capsys
):
    output = tmp_path / "spans.jsonl"
    code, out, err = run(["pii", "scan-text", "../../etc/passwd", str(output)], capsys)
    assert code == 2
    assert "../../etc/passwd:1: not a JSON object" in err
    assert "secret-marker" not in out + err
    assert not output.exists()


@pytest.mark.parametrize("student", [TAUTOLOGY, "../../etc/passwd", "S0000001; drop table x"])
@pytest.mark.parametrize("action", ["access", "erase"])
def test_when_a_request_names_a_hostile_student_id_then_it_is_refused_before_any_store(
    steward_home, planted, tmp_path, capsys, action, student
):
    out = tmp_path / "export"
    argv = ["request", action, "--student", student]
    code, printed, err = run([*argv, "--out", str(out)] if action == "access" else argv, capsys)
    assert code == 3
    assert "refused: the student id is not in the accepted form" in err
    assert json.loads(printed)["status"] == "refused"
    assert not (steward_home / "identified.duckdb").exists()
    assert not out.exists() and not (steward_home / "exports").exists()
    with duckdb.connect(str(steward_home / "audit.duckdb"), read_only=True) as con:
        logged = con.execute("select * from duckdb_tables()").fetchall()
        tables = [f'"{row[2]}"."{row[4]}"' for row in logged]
        text = " ".join(str(r) for t in tables for r in con.execute(f"from {t}").fetchall())
    assert student not in text, "the request log holds ids and counts, never what was given"


def test_when_a_request_extract_holds_a_path_as_request_id_then_no_folder_is_made_from_it(
    steward_home, tmp_path
):
    from steward.ingest import ingest
    from steward.requests.handle import process_pending

    reference = Path(__file__).resolve().parents[1] / "badinput" / "reference" / "udd"
    extract = tmp_path / "requests"
    extract.mkdir()
    escape = Path("/tmp") / f"steward-escape-{uuid.uuid4().hex[:8]}"
    hostile = "../" * 10 + str(escape).lstrip("/")  # within the contract's 64 characters
    (extract / "subject_requests.jsonl").write_text(
        json.dumps(
            {
                "request_id": hostile,
                "student_id": "S0000001",
                "request_type": "access",
                "received_at": "2025-10-05T09:00:00Z",
            }
        )
        + "\n"
    )
    ingest([reference, extract], progress=lambda _m: None)

    summary = process_pending()

    assert summary["by_status"] == {"refused": 1}
    assert not escape.exists()
    exports = steward_home / "exports"
    assert not exports.exists() or not any(exports.iterdir())

"""Subject access: the export holds every table the catalogue says can hold the student
and that does, explains each of them, and marks the withheld analytics."""

from __future__ import annotations

import csv
import html
import io
import json
import subprocess
import sys
import zipfile

import pytest

from steward import catalog
from steward.requests.handle import submit
from steward.requests.policy import load

HOSTILE = ["x' or '1'='1", "../../etc", "S1; drop table raw.students", "", "S" * 65]


def _held_rows(look, student) -> dict[str, int]:
    """Rows about the student per catalogue table, counted here independently."""
    usernames = [
        u
        for (u,) in look.query(
            "identified",
            "select distinct username from raw.students where student_id = ? and username is not null",
            [student.student_id],
        )
    ]
    values = {
        "student_id": [student.student_id],
        "username": usernames,
        "pseudonym": [student.pseudonym],
    }
    mentions = (student.student_id, *usernames, student.email, student.full_name)
    held = {}
    for table in catalog.subject_tables():
        if table.store not in {"identified", "warehouse"}:
            continue
        present = look.query(
            table.store,
            "select count(*) from duckdb_tables() where schema_name || '.' || table_name = ?",
            [table.name],
        )
        if present == [(0,)]:
            continue
        if table.key_kind:
            where = f"trim({table.subject_key}) in (select unnest(?::varchar[]))"
            params = [values[table.key_kind]]
            if table.subject_key == "source_id":
                where += " and subject_type = 'student'"
        else:
            where = " or ".join(f"contains({table.subject_text}, ?)" for _ in mentions)
            params = list(mentions)
        ((rows,),) = look.query(
            table.store, f"select count(*) from {table.name} where {where}", params
        )
        if rows:
            held[f"{table.store}/{table.name}"] = rows
    return held


def test_when_a_student_asks_for_access_then_the_export_holds_every_table_that_holds_them(
    look, dbt_manifest
):
    student = look.scored_student()
    held = _held_rows(look, student)
    assert {
        "warehouse/scoring.predictions",
        "identified/raw.students",
        "identified/raw.vle_events",
    } <= set(held)

    outcome = submit("access", student.student_id)

    assert outcome.status == "done", outcome.reason
    archive = look.home / outcome.counts["export"]
    assert archive.parent == look.home / "exports" / outcome.request_id
    with zipfile.ZipFile(archive) as zf:
        names = set(zf.namelist())
        exported = {
            name.removesuffix(".json"): len(json.loads(zf.read(name)))
            for name in names
            if name.endswith(".json") and "/" in name
        }
        csv_rows = {
            name.removesuffix(".csv"): len(list(csv.reader(io.StringIO(zf.read(name).decode()))))
            - 1
            for name in names
            if name.endswith(".csv")
        }
        page = zf.read("index.html").decode()
        predictions = json.loads(zf.read("warehouse/scoring.predictions.json"))
    assert exported == held
    assert csv_rows == held
    assert (archive.parent / "index.html").read_text() == page
    for table in held:
        assert table.replace("/", ".") in page
    # each metric explained from the dbt docs, e.g. every weekly feature's description
    features = json.loads(dbt_manifest.read_text())["nodes"][
        "model.steward.fct_student_week_features"
    ]
    for column in features["columns"].values():
        assert html.escape(column["description"]) in page, column["name"]
    withheld = load().withheld["scoring.predictions"]
    assert {p["score"] for p in predictions} == {"[withheld]"}
    assert {p["risk_band"] for p in predictions} == {"[withheld]"}
    assert all(p["explanation"] and p["features"] for p in predictions)
    assert " ".join(withheld["reason"].split()) in " ".join(page.split())


@pytest.mark.parametrize("hostile", HOSTILE)
def test_when_the_student_id_is_hostile_then_the_request_is_refused_before_any_query(look, hostile):
    students_before = look.query("identified", "select count(*) from raw.students")

    outcome = submit("access", hostile)

    assert outcome.status == "refused"
    assert "student id is not in the accepted form" in outcome.reason
    assert look.query("identified", "select count(*) from raw.students") == students_before
    assert not (look.home / "exports" / outcome.request_id).exists()
    assert not (look.home.parent / "etc").exists()
    ((status, reason),) = look.query(
        "audit", "select status, reason from request_log where request_id = ?", [outcome.request_id]
    )
    assert status == "refused"
    assert reason == outcome.reason


def test_when_a_hostile_id_reaches_the_command_line_then_it_is_refused_with_exit_code_3(look):
    steward = [sys.executable, "-m", "steward.cli"]
    result = subprocess.run(
        [*steward, "request", "erase", "--student", "x' or '1'='1"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 3, result.stderr
    assert "refused: the student id is not in the accepted form" in result.stderr
    shown = subprocess.run(
        [*steward, "request", "log", "--status", "refused"], capture_output=True, text=True
    )
    assert json.loads(shown.stdout)[0]["request_type"] == "erasure"


def test_when_nothing_is_held_under_an_id_then_access_is_refused(look):
    outcome = submit("access", "S0000000")

    assert (outcome.status, outcome.reason) == (
        "refused",
        "no records are held under this student id",
    )

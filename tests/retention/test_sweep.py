"""The sweep on a generated institution: what expires goes, statutory grades and outcomes
stay, a student on a running module keeps their data, and reruns, crashes and dry runs
end where they should."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

import duckdb
import pytest

from steward import catalog, cli, stores
from steward.requests import log as request_log
from steward.retention import policy
from steward.retention.sweep import SweepInterrupted, sweep

QUIET = {"progress": lambda _message: None}
OUTCOMES_SQL = (
    "select count(*), sum(hash(row(student_id, module_instance_id, actual_mark, agreed_mark, "
    "agreed_grade, result, withdrawal_date)::varchar)) from raw.enrolments"
)
RESULTS_SQL = (
    "select count(*), sum(hash(row(student_pseudonym, module_instance_id, actual_mark, agreed_mark, "
    "agreed_grade, result, withdrawal_date)::varchar)) from marts.fct_module_results"
)


def test_when_swept_in_2030_then_expired_activity_is_gone_and_outcomes_stay(
    sweep_home, count, query
):
    before = {
        "vle": count(sweep_home, "identified", "select count(*) from raw.vle_events"),
        "quarantine": count(sweep_home, "identified", "select count(*) from raw.quarantine"),
        "predictions": count(sweep_home, "warehouse", "select count(*) from scoring.predictions"),
        "students": count(sweep_home, "identified", "select count(*) from raw.students"),
        "outcomes": query(sweep_home, "identified", OUTCOMES_SQL),
        "results": query(sweep_home, "warehouse", RESULTS_SQL),
    }
    assert min(before["vle"], before["quarantine"], before["predictions"]) > 0

    summary = sweep(date(2030, 1, 1), **QUIET)

    assert summary["outcome"] == "success"
    for store, table in [
        ("identified", "raw.vle_events"),
        ("identified", "raw.attendance"),
        ("identified", "raw.library_loans"),
        ("identified", "raw.quarantine"),
        ("warehouse", "staging.stg_vle__events"),
        ("warehouse", "marts.fct_student_week_engagement"),
        ("warehouse", "marts.fct_student_week_features"),
        ("warehouse", "scoring.predictions"),
        ("warehouse", "scoring.interventions"),
        ("analyst", "main.release_manifest"),
    ]:
        assert count(sweep_home, store, f"select count(*) from {table}") == 0, table
    # nothing anchored on a module end is due yet: student records stay whole
    assert (
        count(
            sweep_home,
            "identified",
            "select count(*) from raw.students where last_name is not null",
        )
        == (before["students"])
    )
    assert query(sweep_home, "identified", OUTCOMES_SQL) == before["outcomes"]
    assert query(sweep_home, "warehouse", RESULTS_SQL) == before["results"]
    applied = {(s["store"], s["table"]): s["rows"] for s in summary["applied"]}
    assert applied[("identified", "raw.vle_events")] == before["vle"]


def test_when_swept_in_2030_then_loaded_extracts_and_old_exports_are_deleted(sweep_home):
    landing = sweep_home / "landing" / "institution"
    assert (landing / "vle").is_dir() and (
        sweep_home / "exports" / "request-0001" / "export.zip"
    ).exists()

    sweep(date(2030, 1, 1), **QUIET)

    left = sorted(str(p.relative_to(landing)) for p in landing.rglob("*") if p.is_file())
    # what ingest never loaded (the folder's ignore list names it) is kept
    assert left and all(
        p in {".stewardignore", "manifest.json"} or p.startswith("truth/") for p in left
    )
    assert not (landing / "vle").exists()
    assert not any((sweep_home / "exports").rglob("*"))


def test_when_swept_in_2034_then_records_are_anonymised_but_grades_and_outcomes_remain(
    sweep_home, count, query
):
    outcomes = query(sweep_home, "identified", OUTCOMES_SQL)
    results = query(sweep_home, "warehouse", RESULTS_SQL)
    students = count(
        sweep_home, "identified", "select count(distinct student_id) from raw.students"
    )

    summary = sweep(date(2034, 1, 1), **QUIET)

    assert summary["outcome"] == "success"
    assert query(sweep_home, "identified", OUTCOMES_SQL) == outcomes
    assert query(sweep_home, "warehouse", RESULTS_SQL) == results
    # the student record is the bare key the grades refer to
    assert (
        count(sweep_home, "identified", "select count(distinct student_id) from raw.students")
        == students
    )
    assert (
        count(
            sweep_home,
            "identified",
            "select count(*) from raw.students where coalesce(first_name, last_name, email, "
            "birth_date::varchar, postcode, username, ethnicity) is not null",
        )
        == 0
    )
    assert (
        count(sweep_home, "identified", "select count(registration_date) from raw.enrolments") == 0
    )
    assert count(sweep_home, "warehouse", "select count(sex) from staging.stg_sis__students") == 0
    assert (
        count(
            sweep_home, "warehouse", "select count(ethnicity) from restricted.restricted_students"
        )
        == 0
    )
    for store, table in [
        ("identified", "raw.case_notes"),
        ("identified", "raw.consent_events"),
        ("identified", "raw.staff"),
        ("warehouse", "staging.stg_consent__events"),
        ("warehouse", "intermediate.int_consents_resolved"),
    ]:
        assert count(sweep_home, store, f"select count(*) from {table}") == 0, table


RUNNING_2027 = """
    select distinct trim(e.student_id) from raw.enrolments e
    join raw.module_instances m on trim(m.module_instance_id) = trim(e.module_instance_id)
    where date '2027-01-01' between m.start_date and m.end_date
      and coalesce(e.withdrawal_date > date '2027-01-01', true)
"""
OLD_EVENTS = "select count(*) from raw.vle_events where occurred_at < date '2025-01-01' and trim(student_id) {} ({})"


def test_when_a_student_is_on_a_running_module_then_their_data_is_not_swept(sweep_home, count):
    kept_before = count(sweep_home, "identified", OLD_EVENTS.format("in", RUNNING_2027))
    others_before = count(sweep_home, "identified", OLD_EVENTS.format("not in", RUNNING_2027))
    assert kept_before > 0 and others_before > 0, "the institution needs old events of both groups"

    sweep(date(2027, 1, 1), **QUIET)

    assert count(sweep_home, "identified", OLD_EVENTS.format("in", RUNNING_2027)) == kept_before
    assert count(sweep_home, "identified", OLD_EVENTS.format("not in", RUNNING_2027)) == 0
    # the same students keep their warehouse rows: pseudonyms of students on running modules
    assert (
        count(
            sweep_home,
            "warehouse",
            """select count(*) from staging.stg_vle__events v
        where v.occurred_at < date '2025-01-01' and v.student_pseudonym in (
            select e.student_pseudonym from staging.stg_sis__enrolments e
            join staging.stg_sis__module_instances m using (module_instance_id)
            where date '2027-01-01' between m.start_date and m.end_date
              and coalesce(e.withdrawal_date > date '2027-01-01', true))""",
        )
        == kept_before
    )


def test_when_swept_twice_on_the_same_day_then_the_second_sweep_changes_nothing(
    sweep_home, checksums
):
    sweep(date(2030, 1, 1), **QUIET)
    after_first = checksums(sweep_home)

    second = sweep(date(2030, 1, 1), **QUIET)

    assert second["outcome"] == "success"
    assert second["rows_due"] == 0 and second["rows_changed"] == 0
    assert checksums(sweep_home) == after_first


def test_when_a_sweep_crashes_between_stores_then_a_rerun_ends_as_an_uninterrupted_one(
    retention_base, tmp_path, monkeypatch, checksums, query
):
    uninterrupted, crashed = tmp_path / "uninterrupted", tmp_path / "crashed"
    shutil.copytree(retention_base, uninterrupted)
    shutil.copytree(retention_base, crashed)
    monkeypatch.setenv("STEWARD_HOME", str(uninterrupted))
    sweep(date(2030, 1, 1), **QUIET)

    monkeypatch.setenv("STEWARD_HOME", str(crashed))
    with pytest.raises(SweepInterrupted, match="stopped after identified"):
        sweep(date(2030, 1, 1), fail_after_store="identified", **QUIET)
    assert checksums(crashed) != checksums(uninterrupted), (
        "the crash must leave the warehouse unswept"
    )
    rerun = sweep(date(2030, 1, 1), **QUIET)

    assert rerun["outcome"] == "success"
    assert checksums(crashed) == checksums(uninterrupted)
    outcomes = [
        o
        for (o,) in query(
            crashed,
            "audit",
            "select outcome from audit_log where action = 'retention.sweep' order by ended_at",
        )
    ]
    assert outcomes == ["failed", "success"]


def test_when_dry_run_then_nothing_changes_and_the_plan_is_recorded(sweep_home, checksums, query):
    before = checksums(sweep_home)

    summary = sweep(date(2030, 1, 1), dry_run=True, **QUIET)

    assert summary["outcome"] == "dry_run" and summary["rows_due"] > 0
    assert checksums(sweep_home) == before
    actions = dict(
        query(
            sweep_home,
            "audit",
            f"select action, count(*) from audit_log where run_id = '{summary['run_id']}' group by 1",
        )
    )
    assert set(actions) == {"retention.plan", "retention.sweep"}
    planned = query(
        sweep_home,
        "audit",
        "select rows_affected, detail->>'action', detail->>'category', detail->>'as_of', "
        f"detail->>'dry_run' from audit_log where run_id = '{summary['run_id']}' "
        "and action = 'retention.plan' and table_name = 'raw.vle_events'",
    )
    assert planned == [
        (
            next(s["rows"] for s in summary["planned"] if s["table"] == "raw.vle_events"),
            "delete",
            "vle_activity",
            "2030-01-01",
            "true",
        )
    ]


def test_when_the_policy_asks_for_approval_then_the_sweep_waits_until_approved(
    sweep_home, checksums, monkeypatch
):
    monkeypatch.setattr(policy, "approval", lambda: {"required": False, "when_rows_over": 10})
    before = checksums(sweep_home)

    waiting = sweep(date(2030, 1, 1), **QUIET)

    assert waiting["outcome"] == "awaiting_approval"
    assert checksums(sweep_home) == before
    assert sweep(date(2030, 1, 1), approved=True, **QUIET)["outcome"] == "success"
    assert checksums(sweep_home) != before


def test_when_swept_then_the_audit_holds_counts_per_table_and_no_personal_data(sweep_home, query):
    ids = [
        r[0]
        for r in query(sweep_home, "identified", "select distinct student_id from raw.students")
    ]
    pseudonyms = [
        r[0]
        for r in query(
            sweep_home, "warehouse", "select student_pseudonym from staging.stg_sis__students"
        )
    ]

    summary = sweep(date(2030, 1, 1), **QUIET)

    entries = query(
        sweep_home,
        "audit",
        "select action, store, table_name, rows_affected, outcome, detail::varchar from audit_log "
        f"where run_id = '{summary['run_id']}'",
    )
    assert summary["run_id"].startswith("sweep-")
    by_action = {}
    for action, store, table, rows, outcome, _detail in entries:
        by_action.setdefault(action, {})[(store, table)] = (rows, outcome)
    assert set(by_action) == {
        "retention.plan",
        "retention.apply",
        "retention.verify",
        "retention.sweep",
    }
    assert by_action["retention.apply"][("identified", "raw.vle_events")][0] > 0
    assert by_action["retention.apply"][("files", "landing")][0] > 0
    assert set(by_action["retention.verify"].values()) == {(0, "success")}
    assert by_action["retention.sweep"][(None, None)] == (summary["rows_changed"], "success")
    text = " ".join(str(value) for entry in entries for value in entry)
    assert not [i for i in ids + pseudonyms if i in text]


def test_when_sweep_runs_from_the_command_line_then_it_prints_what_it_would_do(
    sweep_home, capsys, checksums
):
    before = checksums(sweep_home)

    assert cli.main(["sweep", "--dry-run", "--as-of", "2030-01-01"]) == 0

    out = capsys.readouterr().out
    assert checksums(sweep_home) == before
    lines = out.splitlines()
    table = lines[next(i for i, line in enumerate(lines) if line.startswith("store ")) :]
    assert table[0].split() == ["store", "table", "action", "rows", "due"]
    assert ["identified", "raw.vle_events", "delete"] in [row.split()[:3] for row in table]
    assert ": dry_run; would change" in out


def test_when_sweep_gets_a_bad_date_then_it_exits_2_naming_it(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["sweep", "--as-of", "2030-13-01"])

    assert exit_.value.code == 2
    assert "--as-of: invalid fromisoformat value: '2030-13-01'" in capsys.readouterr().err


OLD_AUDIT = datetime(2019, 6, 1, tzinfo=UTC)  # more than six years before today


def test_when_audit_records_outlive_their_period_then_the_sweep_deletes_them(sweep_home, count):
    con = duckdb.connect(str(sweep_home / "audit.duckdb"))
    con.execute("set TimeZone = 'UTC'")
    recent = con.execute("select count(*) from audit_log").fetchone()[0]
    con.execute(
        "insert into audit_log (entry_id, run_id, action, outcome, started_at, ended_at) "
        "values ('old-entry', 'ingest-2019', 'ingest', 'success', ?, ?)",
        [OLD_AUDIT, OLD_AUDIT],
    )
    con.execute(request_log.SCHEMA)
    con.execute(
        "insert into request_log (request_id, request_type, source, received_at, due_by, status) "
        "values ('request-2019', 'access', 'cli', ?, ?, 'done')",
        [OLD_AUDIT, OLD_AUDIT],
    )
    con.close()
    assert recent > 0

    summary = sweep(**QUIET)  # today: the audit store is judged by the real clock

    assert summary["outcome"] == "success"
    applied = {(s["store"], s["table"]): s["rows"] for s in summary["applied"]}
    assert applied[("audit", "main.audit_log")] == 1
    assert applied[("audit", "main.request_log")] == 1
    assert (
        count(sweep_home, "audit", "select count(*) from audit_log where run_id = 'ingest-2019'")
        == 0
    )
    assert count(sweep_home, "audit", "select count(*) from request_log") == 0
    # the entries of the last six years stay, and this sweep's own record with them
    assert (
        count(
            sweep_home,
            "audit",
            f"select count(*) from audit_log where run_id <> '{summary['run_id']}'",
        )
        == recent
    )
    with stores.connect("audit", read_only=True) as store:
        assert catalog.undeclared("audit", store) == []

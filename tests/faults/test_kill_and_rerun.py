"""kill -9 part way through ingest, the dbt build, the retention sweep and an erasure, then
the same step run again: the home ends exactly as an uninterrupted run leaves an identical
copy, and the killed state itself holds nothing half-applied (each store's change is all
there or not there at all)."""

from __future__ import annotations

import shutil
import sys
from datetime import date

import pytest

from steward import dbt, ingest
from steward.requests import handle
from steward.retention.sweep import sweep

pytestmark = pytest.mark.slow  # real processes, real dbt: about three minutes in all

QUIET = {"progress": lambda _message: None}
SWEEP_DATE = "2030-01-01"  # activity data is due then; outcomes and student records stay
RAW_TABLES = """select table_name from duckdb_columns() where database_name = current_database()
    and schema_name = 'raw' and column_name = '_file_hash'"""


def _half_loaded_files(harness, home) -> list[str]:
    """Files whose rows in a raw table differ from the ledger's count, and rows or
    quarantined lines from a file the ledger does not know."""
    problems = []
    for (table,) in harness.query(home, "identified", RAW_TABLES):
        problems += [
            f"raw.{table}: {source or hash_} has {rows} rows, ledger says {loaded}"
            for hash_, source, rows, loaded in harness.query(
                home,
                "identified",
                f"""select t._file_hash, f.source_file, count(*), any_value(f.rows_loaded)
                from raw.{table} t left join raw.loaded_files f on f.file_hash = t._file_hash
                group by all having f.source_file is null or count(*) <> any_value(f.rows_loaded)""",
            )
        ]
    problems += [
        f"raw.quarantine: {n} lines of {source}, a file not in the ledger"
        for source, n in harness.query(
            home,
            "identified",
            """select source_file, count(*) from raw.quarantine q where not exists
            (select 1 from raw.loaded_files f where f.file_hash = q.file_hash) group by all""",
        )
    ]
    return problems


def _ingest_totals(harness, home) -> list[tuple]:
    return harness.query(
        home,
        "audit",
        """select count(*), sum(rows_in), sum(rows_affected), sum(rows_quarantined)
        from audit_log where action = 'ingest' and outcome = 'success'""",
    )


def test_when_ingest_is_killed_mid_file_then_a_rerun_loads_exactly_what_one_run_does(
    built_home, tmp_path, harness, as_home
):
    extracts = built_home.parent / "institution"
    whole, killed = tmp_path / "uninterrupted", tmp_path / "killed"
    as_home(whole)
    ingest.ingest([extracts], **QUIET)

    step = harness.start([harness.steward, "ingest", str(extracts)], killed)
    # the next file (15,866 statements) is being loaded in its transaction
    step.wait_for(step.printed("vle/lrs-0000.jsonl ["), "the first VLE file loaded")
    assert step.kill() == -9
    assert not step.printed("rows in =")(), "ingest finished before the kill"
    count_files = "select count(*) from raw.loaded_files"
    ((files_loaded,),) = harness.query(killed, "identified", count_files)
    ((files_in_one_run,),) = harness.query(whole, "identified", count_files)
    assert files_loaded < files_in_one_run, "the kill came after every file was loaded"
    assert _half_loaded_files(harness, killed) == []
    recorded = "audit:main.audit_log" in harness.fingerprint(killed, "audit")
    assert not recorded or _ingest_totals(harness, killed)[0][0] == 0, "a killed run succeeded?"

    as_home(killed)
    rerun = ingest.ingest([extracts], **QUIET)

    assert harness.fingerprint(killed, "identified") == harness.fingerprint(whole, "identified")
    assert ingest.check_ledger()["files_checked"] == files_in_one_run
    skipped = rerun.totals()["files_skipped"]
    assert skipped == files_loaded, "the rerun must skip exactly what the kill left loaded"
    # the audit counts every row once: the killed run's files under no entry (it recorded
    # none), the rest under the rerun's
    ((runs, rows_in, loaded, quarantined),) = _ingest_totals(harness, killed)
    ((_, whole_in, whole_loaded, whole_quarantined),) = _ingest_totals(harness, whole)
    killed_rows = harness.query(
        killed,
        "identified",
        "select sum(rows_in) from raw.loaded_files where run_id <> ?",
        [rerun.run_id],
    )[0][0]
    assert runs == 1
    assert rows_in + killed_rows == whole_in
    assert loaded + quarantined == rows_in and whole_loaded + whole_quarantined == whole_in


def test_when_the_dbt_build_is_killed_then_no_model_is_half_built_and_a_rebuild_matches(
    built_home, tmp_path, harness, as_home
):
    killed = tmp_path / "killed"
    killed.mkdir()
    shutil.copy(built_home / "identified.duckdb", killed / "identified.duckdb")
    reference = harness.fingerprint(built_home, "warehouse")  # one uninterrupted build

    log = killed / "dbt" / "logs" / "dbt.log"
    step = harness.start(
        [sys.executable, "-c", "from steward import dbt; dbt.run('build')"], killed
    )
    step.wait_for(
        lambda: log.exists() and log.read_text(errors="replace").count(" OK created ") >= 6,
        "six models built",
    )
    assert step.kill() == -9
    partial = harness.fingerprint(killed, "warehouse")
    missing = set(reference) - set(partial)
    assert missing, "the build finished before the kill"
    # a model is there whole, under its own name, or not at all (dbt's temporary and
    # backup relations aside)
    torn = {
        name: partial[name]
        for name in partial
        if "__dbt_" not in name and partial[name] != reference.get(name)
    }
    assert torn == {}

    as_home(killed)
    dbt.run("build")

    assert harness.fingerprint(killed, "warehouse") == reference


def _applied(harness, home) -> list[tuple]:
    return harness.query(
        home,
        "audit",
        """select store, table_name, sum(rows_affected) from audit_log
        where action = 'retention.apply' and outcome = 'success'
        group by all having sum(rows_affected) > 0 order by all""",
    )


def test_when_the_sweep_is_killed_inside_a_store_then_that_store_is_untouched_and_a_rerun_matches(
    copy_base, harness, as_home
):
    base, whole, killed = copy_base("base"), copy_base("uninterrupted"), copy_base("killed")
    as_home(whole)
    sweep(date.fromisoformat(SWEEP_DATE), approved=True, **QUIET)

    step = harness.start([harness.steward, "sweep", "--as-of", SWEEP_DATE, "--approve"], killed)
    # the warehouse's transaction has deleted rows and not yet committed
    step.wait_for(
        lambda: any(line.startswith("warehouse ") and ": deleted " in line for line in step.lines),
        "a warehouse table swept",
    )
    assert step.kill() == -9
    assert not step.printed("verified:")()
    # identified committed before the kill; the warehouse and the files are as they were
    assert harness.fingerprint(killed, "identified") == harness.fingerprint(whole, "identified")
    assert harness.fingerprint(killed, "warehouse") == harness.fingerprint(base, "warehouse")
    assert harness.fingerprint(killed, files=True) == harness.fingerprint(base, files=True)

    as_home(killed)
    summary = sweep(date.fromisoformat(SWEEP_DATE), approved=True, **QUIET)

    assert summary["outcome"] == "success"
    stores = ("identified", "warehouse", "analyst")
    assert harness.fingerprint(killed, *stores, files=True) == harness.fingerprint(
        whole, *stores, files=True
    )
    # every row swept is in the audit once: the killed run's identified store, the rerun's rest
    assert _applied(harness, killed) == _applied(harness, whole)
    outcomes = harness.query(
        killed, "audit", "select outcome from audit_log where action = 'retention.sweep'"
    )
    assert outcomes == [("success",)]


def test_when_an_erasure_is_killed_after_the_landing_files_then_a_rerun_erases_as_one_run_does(
    copy_base, harness, as_home
):
    base, whole, killed = copy_base("base"), copy_base("uninterrupted"), copy_base("killed")
    ((student,),) = harness.query(
        base,
        "identified",
        "select student_id from raw.vle_events group by all order by count(*) desc, 1 limit 1",
    )
    as_home(whole)
    assert handle.submit("erasure", student).status == "done"

    landing = sorted(p for p in (killed / "landing").rglob("*") if p.is_file())
    step = harness.start([harness.steward, "request", "erase", "--student", student], killed)
    # the warehouse is committed and the student's lines are blanked; the identified
    # zone's transaction has not committed
    step.wait_for(harness.changed(landing), "a landing file rewritten")
    assert step.kill() == -9
    assert harness.fingerprint(killed, "warehouse") == harness.fingerprint(whole, "warehouse")
    held = "select count(*) from raw.students where student_id = ?"
    assert harness.query(killed, "identified", held, [student]) == [(1,)]
    assert harness.query(killed, "audit", "select request_type, status from request_log") == [
        ("erasure", "open")
    ]

    as_home(killed)
    outcome = handle.submit("erasure", student)

    assert outcome.status == "done"
    assert harness.fingerprint(killed, "identified", "warehouse", files=True) == (
        harness.fingerprint(whole, "identified", "warehouse", files=True)
    )
    assert harness.query(killed, "identified", held, [student]) == [(0,)]
    as_home(killed)
    assert ingest.check_ledger()["files_checked"] > 0
    # the killed request stays open in the log for a steward to see and close; the rerun
    # is logged done
    assert sorted(harness.query(killed, "audit", "select status from request_log")) == [
        ("done",),
        ("open",),
    ]

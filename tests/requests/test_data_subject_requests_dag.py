"""The `data_subject_requests` DAG in real Airflow (`dag.test()`): the pending rows of the
request extract are answered and logged, a manual request is answered too, and a second
run finds nothing left to do."""

from __future__ import annotations

from pathlib import Path

from airflow.dag_processing.dagbag import DagBag

from steward.status import status

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_when_the_dag_runs_then_pending_and_manual_requests_are_answered(
    airflow_db, look, dbt_manifest
):
    pending = look.query(
        "identified",
        "select request_id, request_type, student_id from raw.subject_requests order by 1",
    )
    assert {kind for _, kind, _ in pending} == {"access", "erasure", "rectification"}
    erased = next(sid for _, kind, sid in pending if kind == "erasure")
    manual = look.scored_student()
    dag = DagBag(dag_folder=str(DAGS)).dags["data_subject_requests"]

    run = dag.test(run_conf={"request_type": "access", "student_id": manual.student_id})

    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["announce_changes"] == "success"  # an erasure and a rectification changed data
    log = dict(look.query("audit", "select request_id, status from request_log"))
    assert {request_id: log[request_id] for request_id, _, _ in pending} == {
        request_id: "done" for request_id, _, _ in pending
    }
    assert sorted(log.values()).count("done") == len(pending) + 1  # and the manual one
    assert look.query(
        "identified", "select count(*) from raw.students where student_id = ?", [erased]
    ) == [(0,)]
    access = next(r for r, kind, _ in pending if kind == "access")
    assert (look.home / "exports" / access / f"access-{access}.zip").exists()
    assert look.query("identified", "select count(*) from raw.rectifications") == [(1,)]

    # the hourly run, with default parameters (a fresh parse: `dag.test` runs tasks in this
    # process, and the first run's parameters would otherwise carry over)
    again = DagBag(dag_folder=str(DAGS)).dags["data_subject_requests"].test()

    assert again.state == "success"
    states = {ti.task_id: ti.state for ti in again.get_task_instances()}
    assert states["announce_changes"] == "skipped"
    assert len(look.query("audit", "select request_id from request_log")) == len(pending) + 1
    assert status()["requests"] == {"done": len(pending) + 1}

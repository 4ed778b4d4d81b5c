"""The `retention_sweep` DAG through real Airflow (`dag.test()`): it sweeps, verifies and
records the sweep in the audit store; a dry run changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.providers.standard.operators.hitl import ApprovalOperator

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def retention_dag():
    return DagBag(dag_folder=str(DAGS)).dags["retention_sweep"]


def test_when_the_dag_is_read_then_each_store_is_swept_in_its_pool_after_an_optional_approval(
    retention_dag,
):
    approve = retention_dag.get_task("approve")
    assert isinstance(approve, ApprovalOperator)
    assert approve.downstream_task_ids == {"apply_identified"}
    assert retention_dag.get_task("proceed").downstream_task_ids == {"apply_identified"}
    # nothing else may start the first apply: not after a dry run, not before an approval
    assert retention_dag.get_task("apply_identified").upstream_task_ids == {"approve", "proceed"}
    assert retention_dag.get_task("review").downstream_task_ids == {
        "approve",
        "proceed",
        "record_sweep",
    }
    pools = {t.task_id: t.pool for t in retention_dag.tasks if t.task_id.startswith("apply_")}
    assert pools == {
        "apply_identified": "identified_writer",
        "apply_warehouse": "warehouse_writer",
        "apply_analyst": "analyst_writer",
        "apply_audit": "audit_writer",
        "apply_files": "identified_writer",
    }
    assert retention_dag.params["dry_run"] is False


def test_when_the_dag_runs_then_it_sweeps_verifies_and_records_the_sweep(
    airflow_db, retention_dag, sweep_home, count, query
):
    assert count(sweep_home, "identified", "select count(*) from raw.vle_events") > 0

    run = retention_dag.test(run_conf={"as_of": "2030-01-01"})

    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["approve"] == "skipped" and states["verify_files"] == "success", states
    assert count(sweep_home, "identified", "select count(*) from raw.vle_events") == 0
    assert count(sweep_home, "warehouse", "select count(*) from scoring.predictions") == 0
    summaries = query(
        sweep_home,
        "audit",
        "select run_id, outcome, detail->>'as_of' from audit_log where action = 'retention.sweep'",
    )
    assert len(summaries) == 1
    run_id, outcome, as_of = summaries[0]
    assert run_id.startswith("sweep-") and (outcome, as_of) == ("success", "2030-01-01")
    actions = {
        a
        for (a,) in query(
            sweep_home, "audit", f"select distinct action from audit_log where run_id = '{run_id}'"
        )
    }
    assert actions == {"retention.plan", "retention.apply", "retention.verify", "retention.sweep"}


def test_when_the_dag_runs_dry_then_nothing_changes(
    airflow_db, retention_dag, sweep_home, checksums, query
):
    before = checksums(sweep_home)

    run = retention_dag.test(run_conf={"as_of": "2030-01-01", "dry_run": True})

    assert run.state == "success"
    assert checksums(sweep_home) == before
    assert query(
        sweep_home, "audit", "select outcome from audit_log where action = 'retention.sweep'"
    ) == [("dry_run",)]
    assert query(
        sweep_home, "audit", "select count(*) from audit_log where action = 'retention.apply'"
    ) == [(0,)]

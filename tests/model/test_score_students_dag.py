"""The `score_students` DAG runs in real Airflow (`dag.test()`) on a built warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_when_score_students_runs_then_a_model_is_promoted_and_enrolled_students_are_scored(
    airflow_db, steward_home, built_institution, monkeypatch
):
    steward_home.mkdir(parents=True)
    for store in ("identified", "warehouse"):
        shutil.copy(built_institution[0] / f"{store}.duckdb", steward_home / f"{store}.duckdb")

    dag = DagBag(dag_folder=str(DAGS)).dags["score_students"]
    run = dag.test()
    assert run.state == "success"

    con = duckdb.connect(str(steward_home / "warehouse.duckdb"), read_only=True)
    status = con.execute("select status from scoring.model_registry").fetchall()
    enrolled = con.execute(
        "select count(*) from marts.fct_student_week_features where is_current_week"
    ).fetchone()[0]
    scored = con.execute("select count(*) from scoring.predictions").fetchone()[0]
    outsiders = con.execute(
        "select count(*) from scoring.interventions as i anti join marts.fct_intervention_cohort "
        "as c using (student_pseudonym, module_instance_id, week_number)"
    ).fetchone()[0]
    con.close()
    assert status == [("current",)]
    assert scored == enrolled > 0
    assert outsiders == 0
    assert (steward_home / "audit.duckdb").exists()

"""End to end: ingest_sources then transform_warehouse through real Airflow (`dag.test()`):
Cosmos renders one task per dbt model, the warehouse is built and the leak check passes."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
from airflow.dag_processing.dagbag import DagBag

from steward.sources.generator import generate

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_when_transform_warehouse_runs_after_ingest_then_every_model_is_built_and_checked(
    airflow_db, dbt_manifest, steward_home, monkeypatch, tmp_path
):
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", "e2e-test-key-0123456789abcdefghijklmnop")
    generate(tmp_path / "institution", 50, seed=9)
    bag = DagBag(dag_folder=str(DAGS))
    assert (
        bag.dags["ingest_sources"]
        .test(run_conf={"source_dir": str(tmp_path / "institution")})
        .state
        == "success"
    )

    transform = bag.dags["transform_warehouse"]
    dbt_tasks = [t.task_id for t in transform.tasks if t.task_id.startswith("dbt.")]
    model_files = sorted(p.stem for p in (DAGS.parent / "dbt_project" / "models").rglob("*.sql"))
    assert (
        sorted(re.sub(r"_(model_)?build$", "", t.removeprefix("dbt.")) for t in dbt_tasks)
        == model_files
    )
    for task in dbt_tasks:
        assert transform.get_task(task).pool == "warehouse_writer"

    run = transform.test()
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert set(states.values()) == {"success"}, states

    con = duckdb.connect(str(steward_home / "warehouse.duckdb"), read_only=True)
    built = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    students = con.execute("select count(*) from staging.stg_sis__students").fetchone()[0]
    con.close()
    assert set(model_files) <= built
    assert students == 50

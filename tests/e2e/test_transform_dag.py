"""End to end: ingest_sources then transform_warehouse through real Airflow (`dag.test()`):
one `dbt build` (Cosmos watcher mode) builds the warehouse, a task per dbt model and one
per model's tests report each node's outcome, and the leak check passes."""

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
    models = sorted(m[1] for t in dbt_tasks if (m := re.fullmatch(r"dbt\.(\w+)\.run", t)))
    assert models == model_files
    # only the one `dbt build` writes, in the pool; the watchers read its outcome side by
    # side, and are never retried (a retried watcher would run dbt itself, outside the pool)
    pooled = [t for t in dbt_tasks if transform.get_task(t).pool == "warehouse_writer"]
    assert pooled == ["dbt.dbt_producer_watcher"]
    watchers = [t for t in dbt_tasks if t.endswith((".run", ".test"))]
    assert {transform.get_task(t).retries for t in watchers} == {0}

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


def test_when_a_dbt_test_fails_then_the_run_fails_at_the_build_and_nothing_after_it_runs(
    airflow_db, dbt_manifest, home_from_built, pseudonym_key, monkeypatch
):
    def plant_a_module_without_id(home: Path) -> None:
        con = duckdb.connect(str(home / "identified.duckdb"))
        con.execute(
            "insert into raw.modules select * replace (null as module_id) from raw.modules limit 1"
        )
        con.close()

    home = home_from_built("failing-dbt-test", plant_a_module_without_id)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", pseudonym_key)
    transform = DagBag(dag_folder=str(DAGS)).dags["transform_warehouse"]

    run = transform.test()

    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert run.state == "failed"
    # the one build failed (and is not retried: a retried producer would be skipped, and
    # the skip would pass downstream as if the build had succeeded)
    assert states["dbt.dbt_producer_watcher"] == "failed"
    assert states["dbt.stg_sis__modules.test"] == "upstream_failed"
    for task in ("resweep_warehouse", "check_warehouse", "discover_pii_columns"):
        assert states[task] == "upstream_failed", (task, states[task])

"""The `publish_transparency_report` DAG runs in real Airflow (`dag.test()`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
from airflow.dag_processing.dagbag import DagBag

DAGS = Path(__file__).resolve().parents[2] / "dags"


def test_when_the_dag_runs_then_the_report_is_published_and_audited(
    airflow_db, dbt_manifest, modelled_home, steward_home
):
    shutil.copytree(modelled_home, steward_home)
    version = json.loads(next((steward_home / "models").glob("*/card.json")).read_text())["version"]

    dag = DagBag(dag_folder=str(DAGS)).dags["publish_transparency_report"]
    run = dag.test()

    assert run.state == "success"
    markdown = (steward_home / "reports" / "transparency.md").read_text()
    assert f"at-risk model `{version}`" in markdown
    assert (steward_home / "reports" / "transparency.html").stat().st_size > 0
    con = duckdb.connect(str(steward_home / "audit.duckdb"), read_only=True)
    rows = con.execute(
        "select outcome, detail from audit_log where action = 'transparency_report'"
    ).fetchall()
    con.close()
    assert [(outcome, json.loads(detail)["model_version"]) for outcome, detail in rows] == [
        ("published", version)
    ]

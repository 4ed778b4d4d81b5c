"""How our DAGs run the dbt project through Cosmos (shared by the DAGs that run dbt)."""

from __future__ import annotations

import sys
from pathlib import Path

from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior, TestIndirectSelection

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
# Rendered from the manifest (fast, no dbt call while Airflow parses DAG files); it is
# written by `steward dbt-parse`, which `make`, `steward demo` and `steward up` run.
MANIFEST = DBT_PROJECT / "target" / "manifest.json"

project_config = ProjectConfig(
    dbt_project_path=DBT_PROJECT, manifest_path=MANIFEST, install_dbt_deps=False
)
profile_config = ProfileConfig(
    profile_name="steward",
    target_name="warehouse",
    profiles_yml_filepath=DBT_PROJECT / "profiles.yml",
)
# dbt runs as a subprocess: a DuckDB file opened in-process by dbt would stay open in the
# worker (and in `dag.test()`), and DuckDB refuses other connections to it meanwhile.
# A test that joins two models (relationships, singular tests) runs in the task of the
# model built last ("buildable"), never before both of its models exist.
execution_config = ExecutionConfig(
    test_indirect_selection=TestIndirectSelection.BUILDABLE,
    invocation_mode=InvocationMode.SUBPROCESS,
    dbt_executable_path=str(Path(sys.executable).parent / "dbt"),
)


def render_config(select: list[str]) -> RenderConfig:
    """Render the selected dbt nodes as one Airflow task each (`dbt build`: the model and
    then its tests, so a failing test stops everything downstream)."""
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        test_behavior=TestBehavior.BUILD,
        emit_datasets=False,
    )

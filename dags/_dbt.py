"""How our DAGs run the dbt project through Cosmos (shared by the DAGs that run dbt)."""

from __future__ import annotations

import sys
from pathlib import Path

from airflow.sdk import TaskGroup
from cosmos import ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import (
    PRODUCER_WATCHER_TASK_ID,
    ExecutionMode,
    InvocationMode,
    LoadMode,
    TestBehavior,
    TestIndirectSelection,
)

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
# Watcher mode: one `dbt build` of the whole selection (the producer task) builds every
# model and runs its tests in dependency order, with dbt's own threads; each model's task
# and each model's test task watch its outcome and succeed or fail with it. One dbt start-up
# instead of one per model (about 10 s each on this machine). Watchers wait for the whole
# build and are never retried, so none runs dbt itself (`watch_after_the_build`). The
# producer is not retried: Cosmos skips a retried producer, and the skip would pass
# downstream as if the build had succeeded; a failed build fails the run.
# dbt runs as a subprocess: a DuckDB file opened in-process by dbt would stay open in the
# worker (and in `dag.test()`), and DuckDB refuses other connections to it meanwhile.
# A test that joins two models (relationships, singular tests) runs after the model built
# last ("buildable"), never before both of its models exist.
execution_config = ExecutionConfig(
    execution_mode=ExecutionMode.WATCHER,
    test_indirect_selection=TestIndirectSelection.BUILDABLE,
    invocation_mode=InvocationMode.SUBPROCESS,
    dbt_executable_path=str(Path(sys.executable).parent / "dbt"),
    setup_operator_args={"retries": 0},
)


def render_config(select: list[str]) -> RenderConfig:
    """Render the selected dbt models as a watcher task each, with a watcher for its tests
    (`dbt build` runs the model and then its tests, so a failing test stops everything
    downstream of it)."""
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        select=select,
        test_behavior=TestBehavior.AFTER_EACH,
        emit_datasets=False,
    )


def watch_after_the_build(group: TaskGroup) -> TaskGroup:
    """Start the first watchers of a watcher-mode group once its `dbt build` has finished,
    and let them run side by side, outside the build's pool.

    Cosmos starts them beside the build inside a task group: they would wait for the pool
    slot the build holds, and in `dag.test()`, which runs one task at a time, wait forever
    for a build that never starts. After it, each finds its node's outcome at once.

    A watcher only reads its node's outcome from the build's XCom. It would run dbt itself
    (and write the warehouse) only on a retry or when the build was skipped or failed
    first; it runs only after a successful build, and is never retried, so it never
    writes and needs no writer's pool: the 40-odd watchers then run `parallelism` at a
    time instead of one after another in the build's one-slot pool."""
    roots = list(group.get_roots())
    producer = next(t for t in roots if t.task_id == f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}")
    for task in roots:
        if task is not producer:
            producer >> task
    for task in watchers(group):
        task.pool = "default_pool"  # Airflow's own, always there
        task.retries = 0
    return group


def watchers(group: TaskGroup) -> list:
    """The group's tasks that watch the one `dbt build` (every task but the build)."""
    producer = f"{group.group_id}.{PRODUCER_WATCHER_TASK_ID}"
    return [
        task
        for task in group.iter_tasks()
        if task.task_id != producer and hasattr(task, "model_unique_id")
    ]

"""Every DAG parses, follows the house rules, and does no I/O at import time."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag

from steward.airflow_env import POOLS

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory, monkeypatch_module, dbt_manifest) -> DagBag:
    # Parsing must not touch the stores: point STEWARD_HOME at a folder that must stay absent.
    home = tmp_path_factory.mktemp("parse") / "never-created"
    monkeypatch_module.setenv("STEWARD_HOME", str(home))
    bag = DagBag(dag_folder=str(DAGS), known_pools=set(POOLS))
    assert not home.exists(), "a DAG file did I/O at import time (STEWARD_HOME was created)"
    return bag


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_when_dags_are_parsed_then_none_has_an_import_error(dagbag):
    assert dagbag.import_errors == {}


def test_when_dags_are_parsed_then_every_dag_file_yields_its_dag(dagbag):
    assert DAG_FILES, "no DAG files found"
    assert sorted(dagbag.dag_ids) == sorted(p.stem for p in DAG_FILES)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_when_a_dag_is_inspected_then_it_follows_the_house_rules(dagbag, path):
    dag = dagbag.dags.get(path.stem)
    assert dag is not None, f"{path.name} must define a DAG with dag_id '{path.stem}'"
    assert dag.tags, f"{dag.dag_id}: tags missing"
    assert dag.catchup is False, f"{dag.dag_id}: catchup must be False"
    assert dag.max_active_runs == 1, f"{dag.dag_id}: one run at a time (max_active_runs=1)"
    assert dag.doc_md and len(dag.doc_md.strip()) > 80, f"{dag.dag_id}: doc_md too short"
    default_args = dag.default_args or {}
    assert default_args.get("owner") not in (None, "", "airflow"), f"{dag.dag_id}: set an owner"
    assert isinstance(default_args.get("retries"), int), f"{dag.dag_id}: set retries"
    assert default_args["retries"] >= 1, f"{dag.dag_id}: retries must be at least 1"
    assert str(dag.start_date.tzinfo) in {"UTC", "Timezone('UTC')", "+00:00"}


# Tasks that open no store, or only append to the audit store (which every task does, so
# no pool can serialise it: `stores.LOCK_WAIT` makes an append wait its turn instead).
NO_STORE = {
    "data_subject_requests": {"data_changed", "announce_changes"},
    "retention_sweep": {"open_sweep", "review", "approve", "proceed", "record_sweep"},
    # Cosmos's gate after the one `dbt build` (an EmptyOperator)
    "transform_warehouse": {"dbt.dbt_producer_watcher_done"},
}


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_when_a_task_opens_a_store_then_it_runs_in_that_stores_one_slot_pool(dagbag, path):
    dag = dagbag.dags[path.stem]
    exempt = NO_STORE.get(dag.dag_id, set())
    unpooled = sorted(
        t.task_id
        for t in dag.tasks
        if t.pool not in POOLS and t.task_id not in exempt and not _dbt_watcher(t)
    )
    assert unpooled == [], f"{dag.dag_id}: tasks outside every *_writer pool: {unpooled}"
    assert exempt <= set(dag.task_ids), f"{dag.dag_id}: NO_STORE names tasks it does not have"


def _dbt_watcher(task) -> bool:
    """A Cosmos watcher of the one `dbt build`: it reads its node's outcome from XCom."""
    return hasattr(task, "model_unique_id") and not task.task_id.endswith("_producer_watcher")


def test_when_dbt_watchers_run_outside_the_pool_then_they_never_run_dbt_themselves(dagbag):
    # A watcher runs dbt for its node (writing the warehouse) only on a retry, or when the
    # build failed or was skipped: so none is retried and each waits for the whole build.
    dag = dagbag.dags["transform_warehouse"]
    watchers = [t for t in dag.tasks if _dbt_watcher(t)]
    assert len(watchers) >= 2 * 20, "one watcher per model and one per model's tests"
    producer = dag.get_task("dbt.dbt_producer_watcher")
    for task in watchers:
        assert task.retries == 0, f"{task.task_id} would run dbt itself on a retry"
        assert producer.task_id in task.get_flat_relative_ids(upstream=True), task.task_id
        assert task.trigger_rule == "all_success", task.task_id


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
def test_when_a_dag_file_is_read_then_it_uses_only_airflow_3_idioms(path):
    source = path.read_text()
    for old in ("schedule_interval", "airflow.decorators", "airflow.datasets", "Dataset("):
        assert old not in source, f"{path.name} uses the Airflow 2 idiom {old!r}"
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    assert docstring, f"{path.name} needs a module docstring for doc_md"
    others = [p for p in DAG_FILES if p != path]
    for other in others:
        assert ast.get_docstring(ast.parse(other.read_text())) != docstring, (
            f"{path.name} copies the docstring of {other.name}"
        )

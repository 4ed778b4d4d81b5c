"""DuckDB's memory limit for the platform's connections, and dbt's, comes from
`STEWARD_DUCKDB_MEMORY_LIMIT` (Airflow's task processes get 3 GiB, so that two at once do
not each take DuckDB's default of 80% of memory); a value that is not a size is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from steward import airflow_env, stores
from steward.dbt import PROJECT


def test_when_a_limit_is_set_then_every_store_connection_has_it(steward_home, monkeypatch):
    monkeypatch.setenv(stores.MEMORY_LIMIT, "1GiB")
    with stores.connect("audit") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit == "1.0 GiB"


def test_when_no_limit_is_set_then_duckdbs_default_share_of_memory_applies(
    steward_home, monkeypatch
):
    monkeypatch.delenv(stores.MEMORY_LIMIT, raising=False)
    with stores.connect("audit") as con:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    default = duckdb.connect().execute("select current_setting('memory_limit')").fetchone()[0]
    assert limit == default


@pytest.mark.parametrize("value", ["lots", "3 GiB'; drop table x; --", "-1GB", "3XB"])
def test_when_the_limit_is_not_a_size_then_connecting_is_refused_naming_the_variable(
    steward_home, monkeypatch, value
):
    monkeypatch.setenv(stores.MEMORY_LIMIT, value)
    with pytest.raises(ValueError, match=r"STEWARD_DUCKDB_MEMORY_LIMIT=.* is not a memory size"):
        with stores.connect("audit"):
            pass


def test_when_airflow_runs_tasks_then_each_gets_3_gib_unless_told_otherwise(monkeypatch):
    monkeypatch.delenv(stores.MEMORY_LIMIT, raising=False)
    assert airflow_env.airflow_env({})[stores.MEMORY_LIMIT] == "3GiB"
    assert airflow_env.airflow_env({stores.MEMORY_LIMIT: "6GiB"})[stores.MEMORY_LIMIT] == "6GiB"


def test_when_dbt_connects_then_its_duckdb_has_the_same_limit(steward_home, monkeypatch):
    with stores.connect("identified"):  # the profile attaches it
        pass
    monkeypatch.setenv(stores.MEMORY_LIMIT, "700MiB")
    shown = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "show",
            "--inline",
            "select current_setting('memory_limit') as memory_limit",
            "--output",
            "json",
            "--log-format",
            "json",
            "--project-dir",
            str(PROJECT),
            "--profiles-dir",
            str(PROJECT),
            "--target-path",
            str(steward_home / "dbt" / "target"),
            "--log-path",
            str(steward_home / "dbt" / "logs"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=True,
    )
    previews = [
        json.loads(line)["data"]["preview"]
        for line in shown.stdout.splitlines()
        if line.startswith("{") and "preview" in json.loads(line).get("data", {})
    ]
    assert json.loads(previews[0]) == [{"memory_limit": "700.0 MiB"}]

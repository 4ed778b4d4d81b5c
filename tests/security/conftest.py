"""A demo run for the security checks: `steward demo` itself (generate an institution into
the landing folder, then every DAG of the pipeline in order through real Airflow with
`airflow dags test`, which is `dag.test()` as tests/e2e use it, one process per DAG),
under a pseudonymisation key made for this run and the session's Airflow home.

`airflow dags test` writes no per-task log files: each DAG's task logs are its output,
which the demo appends to $STEWARD_HOME/logs/demo-airflow.log. That file, anything under
$AIRFLOW_HOME/logs and the demo's console output are the logs the checks scan.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

STUDENTS = 200
_DAG_STATE = re.compile(r"^  (\w+): (.+) in [\d.]+s$")


@dataclass(frozen=True)
class DemoRun:
    students: int  # generated
    exit_code: int
    steward_home: Path
    airflow_home: Path
    key: str
    states: dict[str, str]  # dag_id -> final state, in the order they ran
    console: list[str]  # what the demo printed


@pytest.fixture(scope="session")
def demo_run(airflow_db, tmp_path_factory) -> DemoRun:
    from steward.demo import run_demo

    home = tmp_path_factory.mktemp("security") / "home"
    key = secrets.token_urlsafe(48)
    console: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        patch.setenv("STEWARD_PSEUDONYM_KEY", key)
        code = run_demo(students=STUDENTS, seed=7, progress=console.append)
    states = {
        match[1]: match[2] for line in console if (match := _DAG_STATE.match(line)) is not None
    }
    return DemoRun(STUDENTS, code, home, airflow_db, key, states, console)

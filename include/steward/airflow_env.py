"""The environment our Airflow runs in: its home under STEWARD_HOME, our DAG and plugin
folders, no example DAGs, no telemetry (this platform runs without outbound network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from steward import stores

REPO = Path(__file__).resolve().parents[2]
POOLS = {stores.pool_name(s): f"one writer at a time for {s}.duckdb" for s in stores.STORES}


def airflow_env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    steward_home = stores.home()
    env["STEWARD_HOME"] = str(steward_home)
    env.setdefault("AIRFLOW_HOME", str(steward_home / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(REPO / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    env.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    # LocalExecutor starts `parallelism` worker processes up front (32 by default, each a
    # Python process with Airflow loaded); our writers go one at a time per store, and
    # two cores run two tasks at once, so a few are enough.
    env.setdefault("AIRFLOW__CORE__PARALLELISM", str(max(4, 2 * (os.cpu_count() or 1))))
    # Two task processes at once, each with DuckDB's default of 80% of memory, could ask
    # for more than the machine has; 3 GiB each bounds DuckDB's share (it spills the rest
    # of a large join or sort to disk). Memory outside DuckDB (training, Airflow itself)
    # is not bounded by it: docs/performance.md.
    env.setdefault(stores.MEMORY_LIMIT, "3GiB")
    # The DAG processor parses every DAG file again this often (Airflow's default: 30 s).
    # Idle, that was 7.8% of one core, taken from the tasks on this 2-core machine; every
    # 300 s it is 1.3% (docs/performance.md). A DAG file edited while Airflow runs shows
    # within five minutes; `airflow dags reserialize` picks it up at once.
    env.setdefault("AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL", "300")
    env.setdefault("SCARF_ANALYTICS", "false")
    env.setdefault("DO_NOT_TRACK", "true")
    # The DAG files import `steward` and `_`-prefixed helpers beside them.
    paths = [str(REPO / "include"), str(REPO / "dags")]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # `airflow standalone` spawns `airflow` from PATH: put this environment's bin first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def airflow(*args: str, env: dict[str, str] | None = None, log: Path | None = None) -> int:
    """Run the `airflow` command of this environment; output goes to `log` when given."""
    command = [str(Path(sys.executable).parent / "airflow"), *args]
    env = env or airflow_env()
    if log is None:
        return subprocess.run(command, env=env, check=False).returncode
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        return subprocess.run(
            command, env=env, stdout=handle, stderr=subprocess.STDOUT, check=False
        ).returncode


def prepare(env: dict[str, str], log: Path) -> None:
    """Create or migrate Airflow's metadata database and the one-slot writer pools, and
    write the dbt manifest the dbt DAGs are rendered from."""
    from steward import dbt

    dbt.parse()
    if airflow("db", "migrate", env=env, log=log) != 0:
        raise RuntimeError(f"airflow db migrate failed; see {log}")
    pools = Path(env["AIRFLOW_HOME"]) / "steward-pools.json"
    pools.write_text(
        json.dumps(
            {
                name: {"slots": 1, "description": text, "include_deferred": False}
                for name, text in POOLS.items()
            }
        )
    )
    if airflow("pools", "import", str(pools), env=env, log=log) != 0:
        raise RuntimeError(f"could not create the Airflow pools {', '.join(POOLS)}; see {log}")

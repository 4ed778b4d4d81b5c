"""`steward demo`: generate a small institution, run every DAG in order through real
Airflow (`airflow dags test`), then print what each stage did."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from steward import airflow_env, pseudonym, stores
from steward.status import status

# The platform's DAGs in the order data flows through them; the demo runs those present.
PIPELINE = (
    "ingest_sources",
    "transform_warehouse",
    "release_analyst_marts",
    "score_students",
    "retention_sweep",
    "data_subject_requests",
    "publish_transparency_report",
)
DEMO_KEY_FILE = "demo-pseudonym-key"
_STATE = re.compile(r"state=(\w+)|DagRun Finished: .*?state=(\w+)")


def demo_key(home: Path) -> str:
    """The demo's own key, invented once and reused so reruns keep their pseudonyms."""
    path = home / DEMO_KEY_FILE
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _final_state(log: Path, start: int) -> str:
    text = log.read_text(encoding="utf-8", errors="replace")[start:]
    states = [a or b for a, b in _STATE.findall(text)]
    return states[-1] if states else "unknown"


def run_dag(dag_id: str, env: dict[str, str], log: Path) -> tuple[str, float]:
    """Run one DAG with `airflow dags test`; its final state and wall time."""
    start = log.stat().st_size if log.exists() else 0
    began = time.perf_counter()
    code = airflow_env.airflow("dags", "test", dag_id, env=env, log=log)
    state = _final_state(log, start)
    if code != 0 and state == "success":
        state = f"exit {code}"
    return state, time.perf_counter() - began


def run_demo(students: int, seed: int, progress: Callable[[str], None] = print) -> int:
    from steward.sources.generator import generate

    home = stores.home()
    landing = stores.landing_dir() / f"demo-s{seed}-n{students}"
    if not (landing / "manifest.json").exists():
        progress(f"generating {students} students (seed {seed}) into {landing}")
        generate(landing, students, seed, progress=progress)
    else:
        progress(f"using the institution already generated in {landing}")

    if not os.environ.get(pseudonym.KEY_ENV):
        os.environ[pseudonym.KEY_ENV] = demo_key(home)
        progress(
            f"demo: no {pseudonym.KEY_ENV} set, so the demo invented a pseudonymisation key "
            f"(kept in {home / DEMO_KEY_FILE}, readable by you only). Never do this with real data."
        )
    env = airflow_env.airflow_env()
    log = home / "logs" / "demo-airflow.log"
    progress(f"preparing Airflow in {env['AIRFLOW_HOME']} (log: {log})")
    airflow_env.prepare(env, log)

    dags_dir = Path(env["AIRFLOW__CORE__DAGS_FOLDER"])
    failed = []
    for dag_id in PIPELINE:
        if not (dags_dir / f"{dag_id}.py").exists():
            continue
        progress(f"running DAG {dag_id} ...")
        state, seconds = run_dag(dag_id, env, log)
        progress(f"  {dag_id}: {state} in {seconds:.1f}s")
        if state != "success":
            failed.append(dag_id)
            break
    summary = status()
    progress(json.dumps(summary, indent=2, default=str))
    if failed:
        progress(f"demo stopped: {failed[0]} did not succeed; see {log}")
        return 1
    progress(f"demo complete; stores in {home}. `make up` opens the Airflow UI on them.")
    return 0

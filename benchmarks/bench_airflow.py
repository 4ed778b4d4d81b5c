"""The whole platform in Airflow: every DAG in pipeline order under `airflow standalone`
(SQLite, LocalExecutor) on a generated institution. Goal at 50,000 students (20 million
VLE statements): under 10 minutes wall and under 8 GiB peak memory on this machine.

    .venv/bin/python benchmarks/bench_airflow.py [--students 50000]
        [--statements-per-student 400] [--keep DIR]

The institution is generated into the landing folder first (not timed). The scheduler
creates no runs of its own (`[scheduler] use_job_schedule = False`): each DAG of
`steward.demo.PIPELINE` is unpaused, triggered through the REST API with its conf, waited
for and paused again, so that only this run of it counts; a DAG's time starts at its
trigger. Reported: how fast the machine is (`_common.machine_speed`), wall time per DAG
and in total, peak resident memory of Airflow's whole process tree (scheduler, API
server, DAG processor, triggerer and every task process; RSS summed every 0.2 s, PSS at
the RSS highs: `_common.TreeRssSampler`), overall and while each DAG ran, the CPU the
sampling took, and the slowest tasks: where the time goes. Written to
`benchmarks/results/airflow.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TreeRssSampler, machine_speed, save  # noqa: E402

PASSWORD = "bench-airflow"
KEY = "bench-only-pseudonymisation-key-not-for-real-data"
SWEEP_AS_OF = "2027-03-01"  # as in bench_platform: part of the data is due


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_client(url: str) -> httpx.Client:
    token = httpx.post(
        f"{url}/auth/token", json={"username": "admin", "password": PASSWORD}, timeout=60
    )
    token.raise_for_status()
    return httpx.Client(
        base_url=f"{url}/api/v2",
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        timeout=120,
    )


def other_runs(api: httpx.Client, dag_id: str, keep: str) -> list[str]:
    """Runs of `dag_id` queued or running besides `keep`: there should be none, since the
    scheduler starts no runs of its own here."""
    runs = api.get(f"/dags/{dag_id}/dagRuns", params={"state": ["queued", "running"]})
    return [r["dag_run_id"] for r in runs.json()["dag_runs"] if r["dag_run_id"] != keep]


def run_once(api: httpx.Client, dag_id: str, conf: dict, timeout: float) -> dict:
    """Unpause `dag_id`, trigger one run, wait for it and pause the DAG again."""
    deadline = time.monotonic() + 600
    while api.get(f"/dags/{dag_id}").status_code != 200:
        if time.monotonic() > deadline:
            raise SystemExit(f"{dag_id} was never parsed: {api.get('/importErrors').json()}")
        time.sleep(3)
    api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
    created = api.post(f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    created.raise_for_status()
    run_id = created.json()["dag_run_id"]
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while True:
        if others := other_runs(api, dag_id, keep=run_id):
            raise SystemExit(f"{dag_id}: runs besides the benchmark's: {others}")
        run = api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
        if run["state"] in ("success", "failed") or time.monotonic() > deadline:
            break
        time.sleep(2)
    seconds = time.perf_counter() - started
    api.patch(f"/dags/{dag_id}", json={"is_paused": True}).raise_for_status()
    tasks = api.get(
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 1000}
    ).json()["task_instances"]
    return {
        "state": run["state"],
        "seconds": round(seconds, 1),
        "tasks": {
            t["task_id"]: {"state": t["state"], "seconds": round(t["duration"] or 0, 1)}
            for t in tasks
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--statements-per-student", type=int, default=400)
    parser.add_argument("--timeout", type=float, default=3600, help="per DAG, seconds")
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: temp dir)")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-airflow-"))
    home = work / "home"
    os.environ["STEWARD_HOME"] = str(home)
    os.environ["STEWARD_PSEUDONYM_KEY"] = KEY
    from steward import airflow_env, demo, stores
    from steward.sources.generator import generate
    from steward.up import launch, stop, wait_healthy

    statements = args.students * args.statements_per_student
    landing = stores.landing_dir() / f"bench-{args.students}"
    print(f"generating {args.students:,} students, {statements:,} statements into {landing}")
    generate(landing, args.students, seed=1, vle_statements=statements, progress=lambda _m: None)

    speed = machine_speed()
    print(f"machine speed (best of 3, seconds): {speed}")
    airflow_home = work / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    passwords = airflow_home / "passwords.json"
    passwords.write_text(json.dumps({"admin": PASSWORD}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "airflow-standalone.log"
    env = airflow_env.airflow_env(
        {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            # only the benchmark's runs: the scheduler's own time- and asset-scheduled
            # runs would race them for the stores
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "OPENBLAS_NUM_THREADS": "1",
        }
    )
    airflow_env.prepare(env, log)
    print(f"starting airflow standalone on {url} (log: {log})")
    process = launch(env, log)
    sampler = TreeRssSampler(process.pid)
    sampler.start()
    runs: dict[str, dict] = {}
    try:
        wait_healthy(url, process, timeout=600)
        api = api_client(url)
        confs = {"retention_sweep": {"as_of": SWEEP_AS_OF}}
        started = time.perf_counter()
        for dag_id in demo.PIPELINE:
            print(f"  {dag_id} ...", flush=True)
            sampler.lap()
            runs[dag_id] = run_once(api, dag_id, confs.get(dag_id, {}), args.timeout)
            lap = sampler.lap()
            runs[dag_id]["peak_rss_gib"] = round(lap.rss / 2**30, 2)
            runs[dag_id]["peak_pss_gib"] = round(lap.pss / 2**30, 2)
            runs[dag_id]["largest_at_peak"] = [(round(b / 2**30, 2), cmd) for b, cmd in lap.top]
            print(f"  {dag_id}: {runs[dag_id]['state']} in {runs[dag_id]['seconds']:.0f} s")
            if runs[dag_id]["state"] != "success":
                break
        total = time.perf_counter() - started
    finally:
        stop(process)
        peak = sampler.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    dag_seconds = sum(run["seconds"] for run in runs.values())
    slowest = sorted(
        (
            (t["seconds"], f"{dag}.{task}")
            for dag, run in runs.items()
            for task, t in run["tasks"].items()
        ),
        reverse=True,
    )[:12]
    print()
    print(f"{'DAG':<30}{'state':>10}{'seconds':>10}{'tasks':>8}{'RSS GiB':>10}{'PSS GiB':>10}")
    for dag_id, run in runs.items():
        print(
            f"{dag_id:<30}{run['state']:>10}{run['seconds']:>10.0f}{len(run['tasks']):>8}"
            f"{run['peak_rss_gib']:>10.2f}{run['peak_pss_gib']:>10.2f}"
        )
    print(f"{'total':<30}{'':>10}{total:>10.0f}")
    print(
        f"of which the DAG runs (trigger to finish) {dag_seconds:.0f} s; the rest is this "
        "benchmark unpausing, triggering and pausing each DAG through the REST API"
    )
    print(
        f"peak memory of Airflow's process tree: {sampler.peak_pss / 2**30:.2f} GiB "
        f"(PSS: shared pages counted once), {peak / 2**30:.2f} GiB (RSS summed); "
        "largest processes at the PSS peak:"
    )
    for size, command in sampler.peak_top:
        print(f"  {size / 2**30:6.2f} GiB  {command}")
    print(f"memory sampling took {sampler.cpu_seconds:.1f} s of CPU")
    print("slowest tasks:")
    for seconds, name in slowest:
        print(f"  {seconds:8.1f} s  {name}")
    path = save(
        "airflow",
        {
            "students": args.students,
            "vle_statements": statements,
            "total_seconds": round(total, 1),
            "dag_run_seconds": round(dag_seconds, 1),
            "peak_rss_gib": round(peak / 2**30, 2),
            "peak_pss_gib": round(sampler.peak_pss / 2**30, 2),
            "sampler_cpu_seconds": round(sampler.cpu_seconds, 1),
            "load_average": os.getloadavg(),
            "machine_speed": speed,
            "dags": runs,
        },
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()

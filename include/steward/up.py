"""`steward up`: Airflow standalone (API server, scheduler, DAG processor, triggerer on
SQLite with LocalExecutor) serving our DAGs, with the address and login printed."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from steward import airflow_env


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"airflow standalone exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(2)
    raise RuntimeError(f"Airflow did not become healthy at {url} within {timeout:.0f}s")


def admin_password(airflow_home: Path) -> str:
    path = airflow_home / "simple_auth_manager_passwords.json.generated"
    for _ in range(30):
        if path.exists():
            return json.loads(path.read_text())["admin"]
        time.sleep(1)
    raise RuntimeError(f"{path}: Airflow wrote no admin password")


def start(port: int, log: Path) -> tuple[subprocess.Popen, str, str]:
    """Start `airflow standalone` on `port`; (process, url, admin password) once healthy."""
    env = airflow_env.airflow_env()
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__API__BASE_URL"] = f"http://localhost:{port}"
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    airflow_env.prepare(env, log)
    handle = log.open("a", encoding="utf-8")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "airflow"), "standalone"],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, process)
        password = admin_password(Path(env["AIRFLOW_HOME"]))
    except Exception:
        process.terminate()
        raise
    return process, url, password


def run_up(port: int, progress: Callable[[str], None] = print) -> int:
    from steward import stores

    log = stores.home() / "logs" / "airflow-standalone.log"
    progress(f"starting airflow standalone on port {port} (log: {log}) ...")
    process, url, password = start(port, log)
    progress(f"Airflow UI: {url}  login: admin / {password}  (Ctrl-C stops it)")
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=60)
        return 0

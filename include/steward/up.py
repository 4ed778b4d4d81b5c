"""`steward up`: Airflow standalone (API server, scheduler, DAG processor, triggerer on
SQLite with LocalExecutor) serving our DAGs, with the address and login printed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
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


def launch(env: dict[str, str], log: Path) -> subprocess.Popen:
    """`airflow standalone` in `env`, output appended to `log`, in a process group of its
    own so that `stop` reaches every process it starts."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "airflow"), "standalone"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, grace: float = 60) -> None:
    """Stop standalone and its scheduler, API server, DAG processor, triggerer and workers:
    SIGTERM to the group, then SIGKILL to whatever is left after `grace` seconds (the
    standalone process can exit before its children do)."""
    group = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            break
        time.sleep(1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()


def start(port: int, log: Path) -> tuple[subprocess.Popen, str, str]:
    """Start `airflow standalone` on `port`; (process, url, admin password) once healthy."""
    env = airflow_env.airflow_env()
    env["AIRFLOW__API__PORT"] = str(port)
    env["AIRFLOW__API__BASE_URL"] = f"http://localhost:{port}"
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin")
    airflow_env.prepare(env, log)
    process = launch(env, log)
    url = f"http://localhost:{port}"
    try:
        wait_healthy(url, process)
        password = admin_password(Path(env["AIRFLOW_HOME"]))
    except BaseException:
        stop(process)
        raise
    return process, url, password


def run_up(port: int, students: int, seed: int, progress: Callable[[str], None] = print) -> int:
    """Serve the platform in Airflow; with empty stores, load the demo institution first
    so that the UI and the Stewardship view have something to show."""
    from steward import demo, pseudonym, stores

    # `kill` stops Airflow as Ctrl-C does; Airflow runs in a process group of its own.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    home = stores.home()
    if not stores.store_path("warehouse").exists():
        progress(f"{home} holds no data yet: loading the demo institution first (steward demo)")
        if demo.run_demo(students, seed, progress) != 0:
            progress("the demo did not finish (see above); fix that, then run `make up` again")
            return 1
    elif not os.environ.get(pseudonym.KEY_ENV) and (home / demo.DEMO_KEY_FILE).exists():
        # The demo's stores were pseudonymised with the demo's own key: DAGs run from the
        # UI need the same one.
        os.environ[pseudonym.KEY_ENV] = demo.demo_key(home)
        progress(f"demo data: using the demo's key in {home / demo.DEMO_KEY_FILE}")
    log = home / "logs" / "airflow-standalone.log"
    progress(f"starting airflow standalone on port {port} (log: {log}) ...")
    process, url, password = start(port, log)
    progress(f"Airflow UI: {url}  login: admin / {password}  (Ctrl-C stops it)")
    progress(f"Stewardship view: {url}/plugin/stewardship")
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop(process)

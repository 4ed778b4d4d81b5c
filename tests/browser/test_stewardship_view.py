"""A steward's path through the real UI: `airflow standalone` on a built institution, log
in through Airflow's login form in headless Chromium, run `retention_sweep` through the
REST API, and read the sweep's row counts in the Stewardship view.

Needs Debian's `chromium` at /usr/bin/chromium (`.ci/run` installs it). The screenshot is
saved under `test-artifacts/browser/`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from steward import airflow_env
from steward.up import launch, stop, wait_healthy

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
DAG_ID = "retention_sweep"
AS_OF = "2029-06-30"  # years after the generated institution's last module ended
PASSWORD = "steward-browser-test"
KEY = "test-only-pseudonymisation-key-0123456789abcdef"  # as tests/conftest.py builds with

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(log: Path, lines: int = 80) -> str:
    if not log.exists():
        return f"({log} was not written)"
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


class Airflow:
    """A running `airflow standalone`: its address, REST client and log."""

    def __init__(self, url: str, log: Path, home: Path) -> None:
        self.url, self.log, self.steward_home = url, log, home
        token = httpx.post(
            f"{url}/auth/token", json={"username": "admin", "password": PASSWORD}, timeout=30
        )
        token.raise_for_status()
        self.api = httpx.Client(
            base_url=f"{url}/api/v2",
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=60,
        )

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n--- last lines of {self.log} ---\n{log_tail(self.log)}")

    def wait_for_dag(self, dag_id: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.api.get(f"/dags/{dag_id}").status_code == 200:
                return
            time.sleep(3)
        errors = self.api.get("/importErrors").json()
        self.fail(f"DAG {dag_id} was not parsed within {timeout:.0f}s; import errors: {errors}")

    def run_dag(self, dag_id: str, conf: dict, timeout: float = 1200) -> dict:
        """Unpause, trigger and wait for one run of `dag_id`; the finished run."""
        self.api.patch(f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()
        created = self.api.post(
            f"/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf}
        )
        created.raise_for_status()
        run_id = created.json()["dag_run_id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}").json()
            if run["state"] in ("success", "failed"):
                break
            time.sleep(5)
        tasks = self.api.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
        states = {t["task_id"]: t["state"] for t in tasks["task_instances"]}
        if run["state"] != "success":
            self.fail(f"{dag_id} run {run_id} ended as {run['state']}; tasks: {states}")
        return run


@pytest.fixture(scope="module")
def airflow(built_home, tmp_path_factory) -> Iterator[Airflow]:
    """`airflow standalone` on a free port, serving our DAGs and plugin, on a copy of the
    built institution; stopped with its whole process group afterwards."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (see .ci/run)")
    root = tmp_path_factory.mktemp("browser")
    home = root / "steward-home"
    shutil.copytree(built_home, home, ignore=shutil.ignore_patterns("airflow", "logs"))
    airflow_home = root / "airflow"
    airflow_home.mkdir()
    passwords = airflow_home / "passwords.json"
    passwords.write_text(json.dumps({"admin": PASSWORD}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "airflow-standalone.log"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        base = {
            **os.environ,
            "AIRFLOW_HOME": str(airflow_home),
            "STEWARD_PSEUDONYM_KEY": KEY,
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
            # Two cores shared with other work: few task processes, patient task clients,
            # and a retry soon after a task starved of CPU.
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "15",
        }
        env = airflow_env.airflow_env(base)
        airflow_env.prepare(env, log)
    process = launch(env, log)
    try:
        try:
            wait_healthy(url, process, timeout=420)
        except RuntimeError as exc:
            pytest.fail(f"{exc}\n--- last lines of {log} ---\n{log_tail(log)}")
        yield Airflow(url, log, home)
    finally:
        stop(process)


def sweep_as_of(home: Path, as_of: str) -> tuple[str, list[list[str]]]:
    """The retention run for `as_of` in the audit store (unpausing the DAG also starts
    the day's scheduled run): its id, and per table entry its step, table and rows as the
    view prints them."""
    import duckdb

    with duckdb.connect(str(home / "audit.duckdb"), read_only=True) as con:
        run_id = con.execute(
            "select run_id from audit_log where action = 'retention.sweep' "
            "and detail ->> 'as_of' = ? order by started_at desc limit 1",
            [as_of],
        ).fetchone()[0]
        rows = con.execute(
            "select action, table_name, rows_affected from audit_log "
            "where run_id = ? and action like 'retention.%' and action != 'retention.sweep' "
            "order by started_at, ended_at, rowid",
            [run_id],
        ).fetchall()
    return run_id, [
        [action.removeprefix("retention."), table or "–", "–" if count is None else str(count)]
        for action, table, count in rows
    ]


def test_a_steward_logs_in_runs_the_sweep_and_reads_its_row_counts(airflow):
    from playwright.sync_api import expect, sync_playwright

    airflow.wait_for_dag(DAG_ID)
    airflow.run_dag(DAG_ID, {"as_of": AS_OF})
    run_id, entries = sweep_as_of(airflow.steward_home, AS_OF)
    assert entries, f"{DAG_ID} succeeded but wrote no retention entry to the audit store"

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            # Not logged in: the view sends the browser to Airflow's login form.
            page.goto(f"{airflow.url}/stewardship/retention")
            page.wait_for_url("**/auth/login**", timeout=60_000)
            page.get_by_label("Username").fill("admin")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/stewardship/retention", timeout=60_000)

            # In the Airflow UI: the navigation entry opens the view inside the UI.
            page.goto(f"{airflow.url}/")
            page.get_by_role("link", name="Stewardship").first.click()
            page.wait_for_url("**/plugin/stewardship**", timeout=60_000)
            view = page.frame_locator("iframe[title='Stewardship']")
            view.get_by_role("link", name="Retention runs").click()
            table = view.get_by_role("table", name=f"retention run {run_id}", exact=True)
            expect(table).to_be_visible(timeout=60_000)
            shown = [
                [cell.strip() for cell in row.locator("td").all_inner_texts()]
                for row in table.locator("tbody tr").all()
            ]
            facts = view.get_by_role("table", name=f"retention run {run_id} summary")
            summary = {
                row.locator("th").inner_text().strip(): row.locator("td").inner_text().strip()
                for row in facts.locator("tr").all()
            }
            page.screenshot(path=str(ARTIFACTS / "stewardship-retention.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "stewardship-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
    print(f"screenshot: {ARTIFACTS / 'stewardship-retention.png'}")

    assert [[row[0], row[2], row[5]] for row in shown] == entries, (
        f"the view shows {shown}; the audit store holds {entries}"
    )
    changed = sum(int(row[5]) for row in shown if row[0] == "apply")
    assert changed > 0, f"a sweep as of {AS_OF} must find data past its period"
    assert summary["outcome"] == "success"
    assert summary["rows changed"] == str(changed)

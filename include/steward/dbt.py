"""Run dbt on our project in-process (dbtRunner), with STEWARD_HOME's stores."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from steward import stores

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MANIFEST = PROJECT / "target" / "manifest.json"


def run(*args: str) -> None:
    """`dbt <args>` against our project and profile, in a subprocess (an in-process dbt
    would keep the DuckDB files open); raises with dbt's error lines."""
    per_home: list[str] = []
    if args[0] != "parse":
        # the profile's stores live in STEWARD_HOME; so do this run's artifacts, so that
        # builds against different homes (tests, benchmarks) never share a target folder
        home = stores.home()
        per_home = [
            "--target-path",
            str(home / "dbt" / "target"),
            "--log-path",
            str(home / "dbt" / "logs"),
        ]
    command = [
        str(Path(sys.executable).parent / "dbt"),
        *args,
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(PROJECT),
        *per_home,
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT, check=False)
    if result.returncode != 0:
        lines = [line for line in result.stdout.splitlines() if "ERROR" in line or "FAIL" in line]
        detail = "\n".join(lines[-20:]) or result.stderr[-2000:] or result.stdout[-2000:]
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{detail}")


def parse() -> Path:
    """Write the manifest Cosmos renders the DAGs from (no database is touched)."""
    run("parse")
    return MANIFEST

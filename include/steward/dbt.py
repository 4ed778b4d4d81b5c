"""Run dbt on our project in-process (dbtRunner), with STEWARD_HOME's stores."""

from __future__ import annotations

import json
from pathlib import Path

from steward import stores

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
MANIFEST = PROJECT / "target" / "manifest.json"


def run(*args: str) -> None:
    """`dbt <args>` against our project and profile; raises naming the failed nodes."""
    from dbt.cli.main import dbtRunner

    if args[0] != "parse":
        stores.home()  # the profile's stores live in STEWARD_HOME: make sure it exists
    result = dbtRunner().invoke(
        [*args, "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT), "--quiet"]
    )
    if not result.success:
        failed = []
        for node in getattr(result.result, "results", None) or []:
            if str(node.status) in {"error", "fail"}:
                failed.append(f"{node.node.unique_id}: {node.message}")
        detail = "; ".join(failed) or str(result.exception)
        raise RuntimeError(f"dbt {' '.join(args)} failed: {detail}")


def parse() -> Path:
    """Write the manifest Cosmos renders the DAGs from (no database is touched)."""
    run("parse")
    return MANIFEST


def manifest() -> dict:
    if not MANIFEST.exists():
        parse()
    return json.loads(MANIFEST.read_text())

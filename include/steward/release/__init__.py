"""Analyst releases: the gate between the pseudonymised warehouse and `analyst.duckdb`.

`include/policies/releases.yaml` declares each release (its source, quasi-identifiers,
sensitive attributes and thresholds) and the attacker knowledge; :func:`run_release`
judges every release (:mod:`~steward.release.gate`), then publishes the passing ones
into a new analyst store swapped in atomically, keeping the previous version of any
blocked release (:mod:`~steward.release.publish`), with a risk report per release
(:mod:`~steward.release.report`). Importing this package is cheap (the CLI parser
needs it); the DuckDB work is imported when called.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steward.release.cli import add_release_parser, add_risk_parser, cmd_release


def run_release(
    *, dry_run: bool = False, policy_path: str | Path | None = None, run_id: str | None = None
) -> dict[str, Any]:
    """Gate and publish every declared release; ``dry_run`` judges without writing."""
    from datetime import UTC, datetime

    from steward import audit
    from steward.release.gate import assess
    from steward.release.policy import load_policy
    from steward.release.publish import publish, staging_path

    started_at = datetime.now(UTC)
    policy = load_policy(policy_path)
    run_id = run_id or audit.new_run_id("release")
    if dry_run:
        outcomes = assess(policy)
        return {
            "run_id": run_id,
            "dry_run": True,
            "would_publish": [o["name"] for o in outcomes if o["passed"]],
            "would_block": {o["name"]: o["reasons"] for o in outcomes if not o["passed"]},
        }
    outcomes = assess(policy, staging_path(run_id))
    return publish(run_id, outcomes, started_at)


__all__ = ["add_release_parser", "add_risk_parser", "cmd_release", "run_release"]

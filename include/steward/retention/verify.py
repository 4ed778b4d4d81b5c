"""Check a sweep: planned again on the same date, nothing may still be due, and the
store may hold no table the catalogue (and so the sweep) does not know."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from steward.retention import plan
from steward.retention.plan import Step


def verify_store(
    store: str, as_of: date, manifest: Path | None = None
) -> tuple[list[Step], list[str]]:
    """Rows still due per table (zero after a complete sweep), and what is wrong."""
    remaining = plan.plan_store(store, as_of, progress=lambda _message: None, manifest=manifest)
    problems = [
        f"{s.store} {s.table}: {s.rows:,} rows ({s.category}) still due to {s.action}"
        for s in remaining
        if s.rows
    ]
    problems += [
        f"{store} {name}: not in the catalogue, so no retention rule reaches it; give it a "
        f"category in include/policies/data.yaml platform_tables or its dbt model's meta"
        for name in plan.undeclared(store, manifest)
    ]
    return remaining, problems

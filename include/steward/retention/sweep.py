"""A retention sweep from start to end: plan every store, wait for a steward's approval
when the policy asks for it, apply store by store (identified, warehouse, analyst, audit,
then files), verify, and record each step in the audit store.

Audit entries (run id `sweep-...`) hold store, table, category, action and row counts,
never a value from a row: `retention.plan`, `retention.apply` and `retention.verify` per
store and table, and one `retention.sweep` summary whose outcome is `success`, `failed`,
`awaiting_approval`, `rejected` or `dry_run`.

Every step works from the stores as they are, with the same date: a second sweep on the
same day finds nothing due, and a sweep stopped between stores and run again ends exactly
where an uninterrupted one would.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from steward import audit
from steward.retention import policy
from steward.retention.apply import apply_store, swept_to
from steward.retention.plan import STORES, Progress, Step, plan_store
from steward.retention.verify import verify_store

OUTCOMES = ("success", "failed", "awaiting_approval", "rejected", "dry_run")


class SweepInterrupted(RuntimeError):
    """A sweep stopped on purpose between two stores (`fail_after_store`, for tests)."""


class SweepIncomplete(RuntimeError):
    """Verification found rows still due, or a table no rule reaches."""


def today() -> date:
    return datetime.now(UTC).date()


def _record(
    run_id: str,
    action: str,
    steps: list[Step],
    as_of: date,
    dry_run: bool,
    started_at: datetime,
) -> None:
    """One entry per table; a verification entry fails when rows are still due."""
    audit.record_many(
        run_id,
        action,
        [
            {
                "outcome": "failed" if action == "retention.verify" and step.rows else "success",
                "store": step.store,
                "table_name": step.table,
                "rows_affected": step.rows,
                "detail": {
                    "action": step.action,
                    "category": step.category,
                    "as_of": as_of.isoformat(),
                    "dry_run": dry_run,
                },
            }
            for step in steps
        ],
        started_at=started_at,
    )


def plan(
    run_id: str,
    store: str,
    as_of: date,
    *,
    dry_run: bool = False,
    progress: Progress = print,
    manifest: Path | None = None,
) -> list[dict[str, Any]]:
    """Plan one store and record it; the steps as dicts (for XCom)."""
    started_at = datetime.now(UTC)
    steps = plan_store(store, as_of, progress, manifest)
    _record(run_id, "retention.plan", steps, as_of, dry_run, started_at)
    return [s.as_dict() for s in steps]


def apply(
    run_id: str,
    store: str,
    as_of: date,
    *,
    progress: Progress = print,
    manifest: Path | None = None,
) -> list[dict[str, Any]]:
    """Sweep one store in one transaction and record what changed."""
    started_at = datetime.now(UTC)
    try:
        steps = apply_store(store, as_of, progress, manifest)
    except Exception as exc:
        audit.record(
            run_id,
            "retention.apply",
            outcome="failed",
            started_at=started_at,
            store=store,
            detail={"as_of": as_of.isoformat(), "dry_run": False, "error": type(exc).__name__},
        )
        raise
    _record(run_id, "retention.apply", steps, as_of, False, started_at)
    return [s.as_dict() for s in steps]


def verify(
    run_id: str, store: str, as_of: date, *, manifest: Path | None = None
) -> list[dict[str, Any]]:
    """Plan one store again and record it; raises `SweepIncomplete` if anything is due."""
    started_at = datetime.now(UTC)
    remaining, problems = verify_store(store, as_of, manifest)
    _record(run_id, "retention.verify", remaining, as_of, False, started_at)
    if problems:
        audit.record(
            run_id,
            "retention.verify",
            outcome="failed",
            started_at=started_at,
            store=store,
            detail={"as_of": as_of.isoformat(), "problems": len(problems)},
        )
        raise SweepIncomplete("; ".join(problems))
    return [s.as_dict() for s in remaining]


def resweep_warehouse(
    *, progress: Progress = print, manifest: Path | None = None
) -> dict[str, Any]:
    """After a warehouse build: sweep the warehouse again to the date the identified zone
    was last swept to, so that rows dbt derives from rows that stay (weekly rows on the
    enrolment spine) do not come back. Recorded as `retention.apply` under a `resweep-`
    run id. Nothing happens before the first sweep."""
    as_of = swept_to()
    if as_of is None:
        return {"as_of": None, "rows_changed": 0}
    run_id = audit.new_run_id("resweep")
    applied = apply(run_id, "warehouse", as_of, progress=progress, manifest=manifest)
    return {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "rows_changed": sum(step["rows"] for step in applied),
    }


def describe(planned: list[dict[str, Any]]) -> str:
    """What a sweep would change, as Markdown for the steward asked to approve it."""
    lines = [
        f"- {s['store']} `{s['table']}` ({s['category']}): {s['action']} {s['rows']:,} rows"
        for s in planned
        if s["rows"]
    ]
    return "\n".join(
        [
            f"The sweep would change {sum(s['rows'] for s in planned):,} rows and files:",
            "",
            *lines,
            "",
            "Approve to apply it now; reject to leave everything as it is until the next run.",
        ]
    )


def summarise(
    run_id: str,
    outcome: str,
    as_of: date,
    *,
    dry_run: bool,
    started_at: datetime,
    planned: list[dict[str, Any]],
    applied: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Record the `retention.sweep` entry; the summary printed and returned to Airflow."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown sweep outcome {outcome!r}; expected one of {OUTCOMES}")
    applied = applied or []
    per_store: Counter = Counter()
    for step in applied:
        per_store[step["store"]] += step["rows"]
    summary = {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "outcome": outcome,
        "dry_run": dry_run,
        "rows_due": sum(s["rows"] for s in planned),
        "rows_changed": sum(s["rows"] for s in applied),
        "rows_changed_per_store": dict(per_store),
        "planned": planned,
        "applied": applied,
    }
    audit.record(
        run_id,
        "retention.sweep",
        outcome=outcome,
        started_at=started_at,
        rows_in=summary["rows_due"],
        rows_affected=summary["rows_changed"],
        detail={
            "as_of": summary["as_of"],
            "dry_run": dry_run,
            "rows_changed_per_store": summary["rows_changed_per_store"],
            "tables": len(planned),
        },
    )
    return summary


def sweep(
    as_of: date | None = None,
    *,
    dry_run: bool = False,
    approved: bool = False,
    fail_after_store: str | None = None,
    progress: Progress = print,
    manifest: Path | None = None,
) -> dict[str, Any]:
    """The whole sweep in this process (`steward sweep`); the summary.

    Without `approved`, a sweep the policy wants approved stops after planning with
    outcome `awaiting_approval`. `fail_after_store` stops it after that store is applied
    (raising `SweepInterrupted`): the crash a rerun must recover from.
    """
    as_of = as_of or today()
    run_id = audit.new_run_id("sweep")
    started_at = datetime.now(UTC)
    progress(f"{run_id}: retention sweep as of {as_of}{' (dry run)' if dry_run else ''}")
    planned: list[dict[str, Any]] = []
    applied: list[dict[str, Any]] = []
    try:
        for store in STORES:
            progress(f"planning {store} ...")
            planned += plan(
                run_id, store, as_of, dry_run=dry_run, progress=progress, manifest=manifest
            )
        due = sum(s["rows"] for s in planned)
        if dry_run:
            return summarise(
                run_id, "dry_run", as_of, dry_run=True, started_at=started_at, planned=planned
            )
        if due and policy.needs_approval(due) and not approved:
            return summarise(
                run_id,
                "awaiting_approval",
                as_of,
                dry_run=False,
                started_at=started_at,
                planned=planned,
            )
        for store in STORES:
            progress(f"applying {store} ...")
            applied += apply(run_id, store, as_of, progress=progress, manifest=manifest)
            if store == fail_after_store:
                raise SweepInterrupted(f"sweep {run_id} stopped after {store} (fail_after_store)")
        for store in STORES:
            verify(run_id, store, as_of, manifest=manifest)
    except Exception:
        summarise(
            run_id,
            "failed",
            as_of,
            dry_run=dry_run,
            started_at=started_at,
            planned=planned,
            applied=applied,
        )
        raise
    progress(f"verified: nothing due remains as of {as_of}")
    return summarise(
        run_id,
        "success",
        as_of,
        dry_run=False,
        started_at=started_at,
        planned=planned,
        applied=applied,
    )

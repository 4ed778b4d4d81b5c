"""Publish gated releases: a new analyst store, swapped in atomically.

The new store (`analyst.duckdb.new`) gets every release that passed this run, from the
staging file the gate wrote, and for every blocked release the previous version from
the current `analyst.duckdb`, if there is one. `os.replace` then swaps it over the old
store in one step: analysts see the old store or the new one, never a mix. A release
no longer declared in the policy is not carried over (it is withdrawn).

`release_manifest` in the analyst store says, per release, which run published it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from steward import audit, stores
from steward.release import report
from steward.risk._sql import quote

MANIFEST = "release_manifest"
MANIFEST_SCHEMA = f"""
create table {MANIFEST} (
    release_name varchar primary key,
    kind varchar not null,
    purpose varchar not null,
    description varchar,
    run_id varchar not null,
    published_at timestamptz not null,
    rows bigint not null
)
"""


def staging_path(run_id: str) -> Path:
    """Where the gate stages a run's passing releases (removed once published)."""
    return stores.home() / "release_staging" / f"{run_id}.duckdb"


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = 'main'",
        [catalog],
    ).fetchall()
    return {r[0] for r in rows}


def _build(
    new: Path, staging: Path, old: Path, outcomes: list[dict[str, Any]], run_id: str
) -> dict[str, bool]:
    """Write the new store; return, per blocked release, whether a previous version was kept."""
    kept: dict[str, bool] = {}
    published_at = datetime.now(UTC)
    con = duckdb.connect(str(new))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(MANIFEST_SCHEMA)
        con.execute("attach ? as staged (read_only)", [str(staging)])
        old_tables: set[str] = set()
        if old.exists():
            con.execute("attach ? as previous (read_only)", [str(old)])
            old_tables = _tables(con, "previous")
        for outcome in outcomes:
            name = quote(outcome["name"])
            if outcome["passed"]:
                con.execute(f"create table {name} as select * from staged.main.{name}")
                con.execute(
                    f"insert into {MANIFEST} values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        outcome["name"],
                        outcome["kind"],
                        outcome["purpose"],
                        outcome["description"],
                        run_id,
                        published_at,
                        outcome["rows_published"],
                    ],
                )
                continue
            kept[outcome["name"]] = outcome["name"] in old_tables
            if kept[outcome["name"]]:
                con.execute(f"create table {name} as select * from previous.main.{name}")
                if MANIFEST in old_tables:
                    con.execute(
                        f"insert into {MANIFEST} select * from previous.main.{MANIFEST} "
                        "where release_name = ?",
                        [outcome["name"]],
                    )
        con.execute("checkpoint")
    finally:
        con.close()
    return kept


def publish(run_id: str, outcomes: list[dict[str, Any]], started_at: datetime) -> dict[str, Any]:
    """Swap in a new analyst store; write the risk reports and audit entries.

    ``outcomes`` come from :func:`steward.release.gate.assess` with the staging file of
    ``run_id``. Returns a summary: published and blocked release names.
    """
    staging = staging_path(run_id)
    if not staging.exists():
        raise FileNotFoundError(
            f"{staging}: no staged releases for run {run_id}; run the gate (assess) first"
        )
    old = stores.store_path("analyst")
    new = old.with_name(old.name + ".new")
    for leftover in (new, new.with_name(new.name + ".wal")):
        leftover.unlink(missing_ok=True)  # an interrupted earlier run
    kept = _build(new, staging, old, outcomes, run_id)
    # A write-ahead log beside the old store belongs to the old file: it must not be
    # replayed into the new one.
    old.with_name(old.name + ".wal").unlink(missing_ok=True)
    os.replace(new, old)

    created_at = datetime.now(UTC)
    reports = []
    for outcome in outcomes:
        entry = {
            **outcome,
            "run_id": run_id,
            "created_at": created_at.isoformat(),
            "status": "published" if outcome["passed"] else "blocked",
            "previous_version_kept": kept.get(outcome["name"], False),
        }
        reports.append(entry)
        report.write(entry)
        audit.record(
            run_id,
            "release_publish" if outcome["passed"] else "release_block",
            outcome="published" if outcome["passed"] else "blocked",
            started_at=started_at,
            store="analyst",
            table_name=outcome["name"],
            rows_in=outcome["rows_before"],
            rows_affected=outcome["rows_published"] if outcome["passed"] else 0,
            detail={
                "kind": outcome["kind"],
                "k_after": report.measure_value(outcome["after"], "k"),
                "suppressed_rows": outcome["suppressed_rows"],
                "previous_version_kept": entry["previous_version_kept"],
                "reasons": len(outcome["reasons"]),
            },
        )
    report.record(reports, created_at)
    # Kept until the reports are written, so that a retried task can finish the run.
    staging.unlink()
    return {
        "run_id": run_id,
        "published": [o["name"] for o in outcomes if o["passed"]],
        "blocked": [o["name"] for o in outcomes if not o["passed"]],
        "previous_versions_kept": sorted(name for name, was_kept in kept.items() if was_kept),
        "reports": str(stores.home() / "reports" / "releases"),
    }

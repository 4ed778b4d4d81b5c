"""`steward status`: what the stores hold and what ran last, in counts only."""

from __future__ import annotations

from typing import Any

import duckdb

from steward import stores


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = con.execute(
        "select schema_name, table_name from duckdb_tables() where not temporary order by all"
    ).fetchall()
    return {
        f"{schema}.{table}": con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        for schema, table in names
    }


def status() -> dict[str, Any]:
    out: dict[str, Any] = {"steward_home": str(stores.home()), "stores": {}}
    for store in stores.STORES:
        path = stores.store_path(store)
        if not path.exists():
            out["stores"][store] = {"exists": False}
            continue
        with stores.connect(store, read_only=True) as con:
            out["stores"][store] = {
                "exists": True,
                "bytes": path.stat().st_size,
                "tables": _tables(con),
            }
            if store == "audit":
                rows = con.execute(
                    """select action, run_id, outcome, ended_at from audit_log
                    qualify row_number() over (partition by action order by ended_at desc) = 1
                    order by action"""
                ).fetchall()
                out["last_runs"] = {
                    action: {"run_id": run, "outcome": outcome, "ended_at": ended}
                    for action, run, outcome, ended in rows
                }
                if "main.request_log" in out["stores"][store]["tables"]:
                    out["requests"] = dict(
                        con.execute(
                            "select status, count(*) from request_log group by status"
                        ).fetchall()
                    )
            if store == "identified":
                tables = out["stores"][store]["tables"]
                out["quarantined_rows"] = tables.get("raw.quarantine", 0)
                out["subject_requests_received"] = tables.get("raw.subject_requests", 0)
    return out

"""Where the platform keeps its data: the three zones and the audit store under STEWARD_HOME.

`identified.duckdb` is the restricted zone (raw landing tables, quarantine, identity map),
`warehouse.duckdb` the pseudonymised warehouse, `analyst.duckdb` the released marts and
`audit.duckdb` our own audit trail. DuckDB allows one writer per file; Airflow serialises
writers with a one-slot pool per store, and `connect` turns a lock clash into a clear error.
The audit store is the exception: every task appends to it, whatever pool it runs in, so a
writer waits a few seconds for another task's append to finish (a reader does not wait).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

STORES = ("identified", "warehouse", "analyst", "audit")
# Seconds a writer waits for another process's lock before giving up, per store.
LOCK_WAIT = {"audit": 10.0}


# DuckDB's memory limit per process (its buffer manager spills to disk beyond it); DuckDB's
# own default is 80% of the machine's memory. `steward.airflow_env` sets a lower one for
# Airflow's task processes.
MEMORY_LIMIT = "STEWARD_DUCKDB_MEMORY_LIMIT"


class StoreLockedError(RuntimeError):
    """Another process holds the store's write lock."""


def home() -> Path:
    """The platform's home folder (`STEWARD_HOME`, default `./.steward`), created if missing."""
    path = Path(os.environ.get("STEWARD_HOME", ".steward")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_path(store: str) -> Path:
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; expected one of {', '.join(STORES)}")
    return home() / f"{store}.duckdb"


def landing_dir() -> Path:
    """Landing folder for extracts copied in by `ingest` (under retention like every zone)."""
    path = home() / "landing"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pool_name(store: str) -> str:
    """The Airflow pool (one slot) that serialises writers of `store`."""
    return f"{store}_writer"


def memory_limit() -> str:
    """DuckDB's memory limit for our connections: `STEWARD_DUCKDB_MEMORY_LIMIT` (such as
    `3GiB`, `500MB` or `50%`), default `80%`."""
    value = os.environ.get(MEMORY_LIMIT, "").strip() or "80%"
    if not re.fullmatch(r"\d+(\.\d+)?\s*(%|[KMGT]i?B)", value, flags=re.IGNORECASE):
        raise ValueError(
            f"{MEMORY_LIMIT}={value!r} is not a memory size; use e.g. 3GiB, 500MB or 50%"
        )
    return value


@contextmanager
def connect(store: str, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open a store; all timestamps are handled in UTC."""
    path = store_path(store)
    if read_only and not path.exists():
        raise FileNotFoundError(
            f"{path}: store '{store}' does not exist yet; run the pipeline first"
        )
    deadline = time.monotonic() + (0.0 if read_only else LOCK_WAIT.get(store, 0.0))
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"{path}: store '{store}' is locked by another process ({exc}). If no "
                    f"steward task is running, the lock is stale: stop the process named "
                    f"above and retry."
                ) from exc
            time.sleep(0.05)
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(f"set memory_limit = '{memory_limit()}'")
        yield con
    finally:
        con.close()

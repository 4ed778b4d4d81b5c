"""One writer per store: a second one is refused with a message naming the store's file,
the process holding it and what to do; a writer killed with SIGKILL leaves no lock (DuckDB's
locks are the operating system's, released with the process, and the platform keeps no lock
files of its own); appends to the audit store, which every task makes, wait their turn."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest

from steward import audit, stores

# Opens a store for writing, leaves a row uncommitted, says so, then sleeps.
HOLD = """
import sys, time
from steward import stores
with stores.connect(sys.argv[1]) as con:
    con.execute("create table if not exists fault_probe (x integer)")
    con.begin()
    con.execute("insert into fault_probe values (1)")
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def hold(steward_home):
    """`hold(store, seconds)`: a process holding the store's write lock; killed at the end."""
    held = []

    def _hold(store: str, seconds: float = 120) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLD, store, str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        held.append(process)
        assert process.stdout.readline().strip() == "holding"
        return process

    yield _hold
    for process in held:
        process.kill()
        process.wait(10)


def test_when_a_second_writer_opens_a_held_store_then_it_is_refused_naming_file_and_holder(
    steward_home, hold, harness
):
    holder = hold("identified")
    path = steward_home / "identified.duckdb"

    with pytest.raises(stores.StoreLockedError, match=f"PID {holder.pid}") as refused:
        with stores.connect("identified"):
            pass
    assert str(path) in str(refused.value) and "stop the process" in str(refused.value)

    empty = steward_home.parent / "no-extracts"
    empty.mkdir()
    second = subprocess.run(
        [harness.steward, "ingest", str(empty)],
        capture_output=True,
        text=True,
        env={**os.environ, "STEWARD_HOME": str(steward_home)},
        timeout=120,
    )
    assert second.returncode == 2
    assert f"steward ingest: error: {path}: store 'identified' is locked" in second.stderr
    assert f"PID {holder.pid}" in second.stderr


def test_when_a_writer_is_killed_then_its_lock_and_uncommitted_rows_are_gone(steward_home, hold):
    holder = hold("identified")

    holder.kill()  # SIGKILL
    holder.wait(10)

    with stores.connect("identified") as con:  # identified waits for no one: at once
        assert con.execute("select count(*) from fault_probe").fetchone() == (0,)
    # nothing of the platform's own marks a store as taken: no file for a lock to go stale in
    assert {p.name for p in steward_home.iterdir()} <= {
        "identified.duckdb",
        "identified.duckdb.wal",
    }


def test_when_another_task_is_appending_to_the_audit_then_an_append_waits_its_turn(
    steward_home, hold
):
    started = datetime.now(UTC)
    hold("audit", seconds=1.0)

    audit.record("fault-1", "fault_probe", outcome="success", started_at=started)

    with stores.connect("audit", read_only=True) as con:
        assert con.execute(
            "select count(*) from audit_log where run_id = 'fault-1'"
        ).fetchone() == (1,)


def test_when_the_audit_stays_held_then_an_append_gives_up_naming_the_file(
    steward_home, hold, monkeypatch
):
    monkeypatch.setitem(stores.LOCK_WAIT, "audit", 0.5)
    holder = hold("audit")
    begun = time.monotonic()

    with pytest.raises(stores.StoreLockedError, match=f"audit.duckdb.*PID {holder.pid}"):
        audit.record("fault-2", "fault_probe", outcome="success", started_at=datetime.now(UTC))
    assert time.monotonic() - begun >= 0.5

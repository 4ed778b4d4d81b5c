"""Fixtures of the Stewardship view tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from steward import stores

HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def hold_write_lock():
    """`hold_write_lock(store)`: another process opens the store for writing, as a running
    task does, and keeps it open until the test ends."""
    holders: list[subprocess.Popen] = []

    def hold(store: str) -> None:
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(stores.store_path(store))],
            stdout=subprocess.PIPE,
            text=True,
        )
        holders.append(holder)
        assert holder.stdout.readline().strip() == "locked"

    yield hold
    for holder in holders:
        holder.kill()
        holder.wait()

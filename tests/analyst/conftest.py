"""A STEWARD_HOME holding every store, as production has it: the session's built
identified zone and warehouse, an analyst store published by the release gate, and an
extract in the landing folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def analyst_home(home_from_built, built_home) -> Path:
    from steward.release import run_release

    def publish(home: Path) -> None:
        landing = home / "landing"
        landing.mkdir()
        shutil.copy(built_home.parent / "institution" / "udd" / "student.tsv", landing)
        summary = run_release()
        assert summary["published"], "the release gate published nothing to query"

    return home_from_built("analyst", publish)


@pytest.fixture
def analyst_store(analyst_home, monkeypatch) -> Path:
    monkeypatch.setenv("STEWARD_HOME", str(analyst_home))
    return analyst_home / "analyst.duckdb"

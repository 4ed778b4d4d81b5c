"""A home with something in every zone the sweep reaches, built once per session from the
session's generated institution, and a fresh copy of it per test.

On top of the built identified zone and warehouse: a quarantine (a consent extract sent
again, every row a repeat), the analyst store published by the real release gate,
predictions and interventions in the warehouse's scoring tables (one per student-week 3),
the extracts in the landing folder, and an access export written in January 2026.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

KEY = "test-only-pseudonymisation-key-0123456789abcdef"
EXPORT_WRITTEN = datetime(2026, 1, 15, tzinfo=UTC)


def _add_scoring(home: Path) -> None:
    from steward.model.registry import DDL

    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        con.execute("set TimeZone = 'UTC'")
        con.execute(DDL)
        con.execute(
            """insert into scoring.predictions
            select 'P-' || student_week_key, 'score-test', student_pseudonym, module_instance_id,
                week_number, 0.5, 'medium', 'm1', 'h', '{}', '[]',
                (week_start_date + 7)::timestamptz
            from marts.fct_student_week_features where week_number = 3"""
        )
        con.execute(
            """insert into scoring.interventions
            select 'I-' || prediction_id, student_pseudonym, module_instance_id, week_number,
                prediction_id, model_version, score, risk_band, scored_at, 1.0, 3, null, null, null
            from scoring.predictions"""
        )
    finally:
        con.close()


def _add_quarantine(home: Path, institution: Path, work: Path) -> None:
    """Send the consent extract again with its rows in another order: a new file whose
    every row repeats a loaded event id, so ingest quarantines them all."""
    from steward.ingest import ingest

    header, *rows = (institution / "consent" / "consent_events.csv").read_text().splitlines()
    resent = work / "resent" / "consent_events.csv"
    resent.parent.mkdir(parents=True)
    resent.write_text("\n".join([header, *reversed(rows)]) + "\n")
    ingest([resent.parent], progress=lambda _message: None)


@pytest.fixture(scope="session")
def retention_base(built_home, tmp_path_factory) -> Path:
    """STEWARD_HOME with data in every zone and folder the sweep reaches (do not mutate)."""
    from steward.release import run_release

    work = tmp_path_factory.mktemp("retention-base")
    home = work / "home"
    shutil.copytree(built_home, home)
    institution = built_home.parent / "institution"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        patch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
        _add_quarantine(home, institution, work)
        run_release()
        _add_scoring(home)
        shutil.copytree(institution, home / "landing" / "institution")
        export = home / "exports" / "request-0001" / "export.zip"
        export.parent.mkdir(parents=True)
        export.write_bytes(b"an access export")
        os.utime(export, (EXPORT_WRITTEN.timestamp(), EXPORT_WRITTEN.timestamp()))
    return home


@pytest.fixture
def sweep_home(retention_base, tmp_path, monkeypatch) -> Path:
    """A copy of the retention base for one test, as STEWARD_HOME."""
    home = tmp_path / "home"
    shutil.copytree(retention_base, home)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
    return home


@pytest.fixture(scope="session")
def checksums(home_fingerprint):
    """`checksums(home)`: per table of every zone and per landing and export file, what
    equal contents must share."""
    return lambda home: home_fingerprint(home, ("identified", "warehouse", "analyst"), files=True)


@pytest.fixture(scope="session")
def count(query):
    """`count(home, store, sql)`: the single number a query over one store returns."""
    return lambda home, store, sql: query(home, store, sql)[0][0]

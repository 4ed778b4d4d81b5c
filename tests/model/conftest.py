"""A generated institution (500 students, three presentations, the last one running),
ingested, pseudonymised and built by dbt once per session; each test gets its own copy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

KEY = "test-only-pseudonymisation-key-0123456789abcdef"  # as tests/conftest.py builds with


@pytest.fixture(scope="session")
def built_institution(tmp_path_factory, institution_builder) -> tuple[Path, Path]:
    """(STEWARD_HOME with built stores, the generated folder with its ground truth)."""
    return institution_builder(tmp_path_factory.mktemp("model-built"), 500)


@pytest.fixture
def model_home(built_institution, tmp_path, monkeypatch) -> Path:
    """A private copy of the built stores as STEWARD_HOME (no models trained yet)."""
    home = tmp_path / "home"
    home.mkdir()
    for store in ("identified", "warehouse", "audit"):
        source = built_institution[0] / f"{store}.duckdb"
        if source.exists():
            shutil.copy(source, home / source.name)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
    return home

"""A generated institution's warehouse, built once per session, and a fresh home per test
holding a copy of it (each test publishes into its own analyst store)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

KEY = "test-only-pseudonymisation-key-0123456789abcdef"


@pytest.fixture(scope="session")
def built_warehouse(built_home) -> Path:
    """warehouse.duckdb of the session's 80 generated students."""
    return built_home / "warehouse.duckdb"


@pytest.fixture
def release_home(built_warehouse, tmp_path, monkeypatch) -> Path:
    """STEWARD_HOME with the built warehouse and no analyst store yet."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built_warehouse, home / "warehouse.duckdb")
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
    return home


@pytest.fixture
def write_policy(tmp_path):
    """Write a release policy: the default policy's settings with the given releases."""
    from steward.release.policy import POLICY_FILE

    def _write(releases: dict, name: str = "releases.yaml", **overrides) -> Path:
        policy = yaml.safe_load(POLICY_FILE.read_text())
        policy.update(overrides)
        policy["releases"] = releases
        path = tmp_path / name
        path.write_text(yaml.safe_dump(policy, sort_keys=False))
        return path

    return _write

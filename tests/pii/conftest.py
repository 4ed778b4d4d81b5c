"""The built institution (`built_home`, 80 generated students) with its analyst releases
published, copied per module so that these tests may plant data in it."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

KEY = "test-only-pseudonymisation-key-0123456789abcdef"


@pytest.fixture(scope="module")
def released_home(built_home, tmp_path_factory) -> Path:
    """A copy of `built_home` holding an analyst store published by the release gate."""
    from steward import audit
    from steward.release.gate import assess
    from steward.release.policy import load_policy
    from steward.release.publish import publish, staging_path

    home = tmp_path_factory.mktemp("pii") / "home"
    shutil.copytree(built_home, home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        patch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
        run_id, started = audit.new_run_id("release"), datetime.now(UTC)
        publish(run_id, assess(load_policy(), staging_path(run_id)), started)
    assert (home / "analyst.duckdb").exists()
    return home


@pytest.fixture
def home_copy(released_home, tmp_path, monkeypatch):
    """A fresh copy of the released home as STEWARD_HOME, to plant things in."""
    home = tmp_path / "home"
    shutil.copytree(released_home, home)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
    return home

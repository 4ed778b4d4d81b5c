"""Fixtures for the warehouse tests (the built institution is `built_home`, shared)."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.pipeline import build_warehouse

KEY = "test-only-pseudonymisation-key-0123456789abcdef"

__all__ = ["KEY", "build_warehouse"]


@pytest.fixture
def use_home(monkeypatch):
    """Point STEWARD_HOME (and the key) at a given home for one test."""

    def _use(home: Path) -> Path:
        monkeypatch.setenv("STEWARD_HOME", str(home))
        monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
        return home

    return _use

"""A generated institution, ingested, pseudonymised and built by dbt once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

KEY = "test-only-pseudonymisation-key-0123456789abcdef"


def build_warehouse(home: Path) -> None:
    from steward import dbt, pseudonym

    pseudonym.refresh_identity_map()
    dbt.run("build")


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """STEWARD_HOME with identified and warehouse stores for 80 generated students."""
    from steward.ingest import ingest
    from steward.sources.generator import generate

    root = tmp_path_factory.mktemp("built")
    home = root / "home"
    generated = root / "institution"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        patch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
        generate(generated, 80, seed=5)
        ingest([generated], progress=lambda _m: None)
        build_warehouse(home)
    return home


@pytest.fixture
def use_home(monkeypatch):
    """Point STEWARD_HOME (and the key) at a given home for one test."""

    def _use(home: Path) -> Path:
        monkeypatch.setenv("STEWARD_HOME", str(home))
        monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
        return home

    return _use

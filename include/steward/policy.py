"""Read the policy files under `include/policies/`: the one place a steward changes policy."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

POLICY_DIR = Path(__file__).resolve().parents[1] / "policies"


@cache
def load(name: str) -> Any:
    """Parsed `include/policies/<name>.yaml`."""
    return read(name)


def read(name: str, folder: Path = POLICY_DIR) -> Any:
    """Parsed `<folder>/<name>.yaml`, uncached: for a copy of the policy being tried out."""
    path = folder / f"{name}.yaml"
    if not path.exists():
        raise FileNotFoundError(f"{path}: policy file missing")
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def codelist(name: str) -> dict[str, str]:
    """A UDD code list (code -> label) from `codelists.yaml`."""
    lists = load("codelists")
    if name not in lists:
        raise KeyError(f"code list {name!r} is not declared in {POLICY_DIR / 'codelists.yaml'}")
    return {str(code): label for code, label in lists[name].items()}


def purposes() -> list[dict[str, Any]]:
    return load("purposes")["purposes"]


def purpose_names() -> list[str]:
    return [p["name"] for p in purposes()]

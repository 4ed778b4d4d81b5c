"""Read `include/policies/releases.yaml`: what may be released and under which thresholds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from steward.policy import POLICY_DIR
from steward.risk import RiskInputError, Thresholds

POLICY_FILE = POLICY_DIR / "releases.yaml"
KINDS = ("microdata", "aggregate")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ReleasePolicyError(ValueError):
    """The release policy file is malformed; the message names the file, release and field."""


@dataclass(frozen=True)
class ReleaseSpec:
    """One declared release.

    Microdata releases use ``quasi_identifiers`` (column -> hierarchy spec) and
    ``sensitive``; aggregates use ``rows``, ``columns`` and ``count`` (the name of the
    published count column).
    """

    name: str
    kind: str
    purpose: str
    description: str
    source: str
    thresholds: Thresholds
    quasi_identifiers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sensitive: tuple[str, ...] = ()
    rows: str | None = None
    columns: str | None = None
    count: str | None = None


@dataclass(frozen=True)
class ReleasePolicy:
    path: Path
    defaults: Thresholds
    subject_key: str
    attacker_knowledge: tuple[str, ...]
    releases: tuple[ReleaseSpec, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.releases)


def _require(entry: Mapping[str, Any], key: str, where: str, kind: type = str) -> Any:
    value = entry.get(key)
    if not isinstance(value, kind) or (isinstance(value, str | list | dict) and not value):
        raise ReleasePolicyError(f"{where}: field '{key}' is required ({kind.__name__})")
    return value


def _thresholds(values: Mapping[str, Any], base: Mapping[str, Any], where: str) -> Thresholds:
    try:
        return Thresholds.from_mapping({**base, **values})
    except (RiskInputError, TypeError) as exc:
        raise ReleasePolicyError(f"{where}: field 'thresholds': {exc}") from exc


def _release(
    name: str,
    entry: Any,
    defaults: Mapping[str, Any],
    purposes: set[str],
    path: Path,
    key: str,
) -> ReleaseSpec:
    where = f"{path}: release {name}"
    if not _NAME.match(name):
        raise ReleasePolicyError(
            f"{where}: a release name must be lower-case letters, digits and '_' "
            "(it becomes a table in analyst.duckdb)"
        )
    if not isinstance(entry, Mapping):
        raise ReleasePolicyError(f"{where}: must be a mapping of fields")
    kind = _require(entry, "kind", where)
    if kind not in KINDS:
        raise ReleasePolicyError(f"{where}: field 'kind' must be one of {', '.join(KINDS)}")
    purpose = _require(entry, "purpose", where)
    if purposes and purpose not in purposes:
        raise ReleasePolicyError(
            f"{where}: purpose {purpose!r} is not declared in purposes.yaml "
            f"({', '.join(sorted(purposes))})"
        )
    common = {
        "name": name,
        "kind": kind,
        "purpose": purpose,
        "description": " ".join(str(entry.get("description", "")).split()),
        "source": _require(entry, "source", where),
        "thresholds": _thresholds(entry.get("thresholds") or {}, defaults, where),
    }
    if kind == "microdata":
        qi = _require(entry, "quasi_identifiers", where, dict)
        for column, spec in qi.items():
            if not isinstance(spec, Mapping):
                raise ReleasePolicyError(
                    f"{where}: quasi-identifier {column} needs a hierarchy spec such as "
                    "{file: age_band_at_reference.csv} or {flat: true}"
                )
        sensitive = entry.get("sensitive") or []
        if not isinstance(sensitive, list):
            raise ReleasePolicyError(f"{where}: field 'sensitive' must be a list of columns")
        spec = ReleaseSpec(**common, quasi_identifiers=dict(qi), sensitive=tuple(sensitive))
        published = [*qi, *sensitive]
    else:
        spec = ReleaseSpec(
            **common,
            rows=_require(entry, "rows", where),
            columns=_require(entry, "columns", where),
            count=_require(entry, "count", where),
        )
        published = [spec.rows, spec.columns]
    if key in published:
        raise ReleasePolicyError(
            f"{where}: publishes the subject key {key}; it links releases and is never released"
        )
    return spec


def load_policy(path: str | Path | None = None) -> ReleasePolicy:
    """Parse and check a release policy (default: `include/policies/releases.yaml`)."""
    from steward import policy

    path = Path(path) if path else POLICY_FILE
    if not path.is_file():
        raise ReleasePolicyError(f"{path}: release policy file not found")
    with path.open(encoding="utf-8") as handle:
        try:
            data = yaml.safe_load(handle) or {}
        except yaml.YAMLError as exc:
            raise ReleasePolicyError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ReleasePolicyError(f"{path}: not a release policy (expected a YAML mapping)")
    defaults = (data.get("defaults") or {}).get("thresholds") or {}
    base = _thresholds({}, defaults, f"{path}: defaults")
    releases = data.get("releases")
    if not isinstance(releases, Mapping) or not releases:
        raise ReleasePolicyError(f"{path}: field 'releases' must name at least one release")
    purposes = set(policy.purpose_names())
    knowledge = (data.get("attacker_knowledge") or {}).get("columns") or []
    key = _require(data, "subject_key", str(path))
    return ReleasePolicy(
        path=path,
        defaults=base,
        subject_key=key,
        attacker_knowledge=tuple(knowledge),
        releases=tuple(
            _release(name, entry, defaults, purposes, path, key) for name, entry in releases.items()
        ),
    )

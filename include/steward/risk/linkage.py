"""Joint risk of releases an analyst can link, and of what an attacker already knows.

Releases drawn from the same students can be joined. The worst case, assumed here,
is that the analyst joins them exactly (they share the subject pseudonym, or enough
quasi-identifiers to link): every combination of releases is measured over the
union of their quasi-identifiers, on the subjects present in all of them. k is
counted in subjects (``count(distinct key)``), so releases with several rows a
student (one per module) are judged per person.

Attacker knowledge is a set of columns someone outside holds for the students, such
as module, sex and age band from a class list. Any such column a release publishes
is a quasi-identifier of that release, declared or not.

Adding a release to a combination can only shrink classes, so once a combination
fails its supersets are not measured: the report lists the smallest failing ones.
A release in a failing combination is blocked even when it passes alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

import duckdb

from steward.risk._sql import quote, quote_relation, require_columns
from steward.risk.errors import RiskInputError

MAX_RELEASES = 12


@dataclass(frozen=True)
class Release:
    """A candidate release: a table of ``relation`` with its quasi-identifiers."""

    name: str
    relation: str
    qi: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "qi", tuple(self.qi))


@dataclass(frozen=True)
class CombinationRisk:
    """k over the union of the combined releases' quasi-identifiers."""

    releases: tuple[str, ...]
    qi: tuple[str, ...]  # qualified: release.column
    subjects: int
    k: int | None
    subjects_at_risk: int
    passed: bool


@dataclass(frozen=True)
class LinkageReport:
    """Every measured combination, and the releases that must not be published."""

    k: int
    attacker_knowledge: tuple[str, ...]
    combinations: tuple[CombinationRisk, ...] = field(default_factory=tuple)

    @property
    def failing(self) -> tuple[CombinationRisk, ...]:
        return tuple(c for c in self.combinations if not c.passed)

    @property
    def blocked(self) -> tuple[str, ...]:
        """Releases in any failing combination, alone or joined."""
        names = {name for c in self.failing for name in c.releases}
        return tuple(sorted(names))

    @property
    def passed(self) -> bool:
        return not self.failing


def effective_qi(
    con: duckdb.DuckDBPyConnection, release: Release, attacker_knowledge: Sequence[str]
) -> tuple[str, ...]:
    """Declared quasi-identifiers plus published columns the attacker knows."""
    types = require_columns(con, release.relation, release.qi)
    known = [c for c in attacker_knowledge if c in types and c not in release.qi]
    return (*release.qi, *known)


def _measure(
    con: duckdb.DuckDBPyConnection,
    group: Sequence[Release],
    qis: dict[str, tuple[str, ...]],
    key: str,
    k: int,
) -> CombinationRisk:
    first = group[0]
    sources = [f"{quote_relation(first.relation)} r0"]
    for i, release in enumerate(group[1:], start=1):
        sources.append(f"join {quote_relation(release.relation)} r{i} using ({quote(key)})")
    columns = [f"r{i}.{quote(c)}" for i, r in enumerate(group) for c in qis[r.name]]
    subjects, smallest, at_risk = con.execute(
        f"""select coalesce(sum(n), 0)::bigint, min(n)::bigint,
          coalesce(sum(n) filter (where n < {int(k)}), 0)::bigint
        from (select count(distinct {quote(key)}) as n from {" ".join(sources)}
              group by {", ".join(columns)})"""
    ).fetchone()
    return CombinationRisk(
        releases=tuple(r.name for r in group),
        qi=tuple(f"{r.name}.{c}" for r in group for c in qis[r.name]),
        subjects=subjects,
        k=smallest,
        subjects_at_risk=at_risk,
        passed=smallest is None or smallest >= k,
    )


def check_linkage(
    con: duckdb.DuckDBPyConnection,
    releases: Sequence[Release],
    *,
    k: int,
    key: str,
    attacker_knowledge: Sequence[str] = (),
) -> LinkageReport:
    """Measure each release alone and every combination, with attacker knowledge.

    ``key`` is the subject pseudonym column every release carries (it need not be
    published: it models exact linkage). Raises :class:`RiskInputError` when a
    release lacks the key or a quasi-identifier, or names are repeated.
    """
    names = [r.name for r in releases]
    if len(set(names)) != len(names):
        raise RiskInputError(f"release names must be unique, got {', '.join(names)}")
    if len(releases) > MAX_RELEASES:
        raise RiskInputError(
            f"{len(releases)} releases is more than the {MAX_RELEASES} checked jointly"
        )
    qis = {}
    for release in releases:
        require_columns(con, release.relation, [key], where=f"release {release.name}")
        if not release.qi:
            raise RiskInputError(f"release {release.name}: name its quasi-identifiers")
        qis[release.name] = effective_qi(con, release, attacker_knowledge)
    results: list[CombinationRisk] = []
    failed: list[frozenset[str]] = []
    for size in range(1, len(releases) + 1):
        for group in combinations(releases, size):
            members = frozenset(r.name for r in group)
            if any(f <= members for f in failed):
                continue
            risk = _measure(con, group, qis, key, k)
            results.append(risk)
            if not risk.passed:
                failed.append(members)
    return LinkageReport(
        k=k, attacker_knowledge=tuple(attacker_knowledge), combinations=tuple(results)
    )

"""The release gate: build each declared release from the warehouse and judge its risk.

For every release in the policy the candidate table is built from the warehouse (opened
read-only) in a scratch in-memory database. Microdata is measured, generalised through
the policy's hierarchies (:func:`steward.risk.generalise`) and measured again;
aggregates are cross-tabulated with small-cell and secondary suppression. The
microdata releases that pass alone are then checked jointly, with the declared
attacker knowledge (:func:`steward.risk.check_linkage`); any release in a failing
combination is blocked.

Passing releases are written, without the subject key, to a staging DuckDB file that
:mod:`steward.release.publish` turns into the analyst store. The outcome of every
release is a plain dict of counts and measures (it travels through XCom and into the
risk report), never a record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from steward import stores
from steward.release.policy import ReleasePolicy, ReleaseSpec
from steward.risk import (
    Release,
    RiskInputError,
    check_linkage,
    generalise,
    suppress_count_table,
)
from steward.risk._sql import quote

# What a release source may read: the pseudonymised warehouse, never `restricted`.
SOURCE_SCHEMAS = ("staging", "intermediate", "marts")


@dataclass
class Outcome:
    """What the gate decided about one release (counts and measures only)."""

    name: str
    kind: str
    purpose: str
    description: str
    thresholds: dict[str, Any]
    passed: bool = False
    reasons: list[str] = field(default_factory=list)
    quasi_identifiers: list[str] = field(default_factory=list)
    sensitive: list[str] = field(default_factory=list)
    rows_before: int | None = None
    rows_published: int | None = None
    suppressed_rows: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    levels: dict[str, int] = field(default_factory=dict)
    information_loss: dict[str, Any] = field(default_factory=dict)
    linkage: list[dict[str, Any]] = field(default_factory=list)
    cells: dict[str, int] = field(default_factory=dict)

    def block(self, reason: str) -> None:
        self.passed = False
        self.reasons.append(reason)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every object in a serialised statement (``json_serialize_sql``), depth first."""
    if isinstance(tree, dict):
        yield tree
        tree = list(tree.values())
    if isinstance(tree, list):
        for value in tree:
            yield from _nodes(value)


def source_tables(con: duckdb.DuckDBPyConnection, source: str, where: str) -> list[tuple[str, str]]:
    """(schema, table) of every relation one SELECT reads, its own CTEs left out; a table
    function is named with the schema `function`."""
    parsed = json.loads(con.execute("select json_serialize_sql(?)", [source]).fetchall()[0][0])
    if parsed.get("error") or len(parsed.get("statements", [])) != 1:
        detail = parsed.get("error_message", "it must be exactly one SELECT statement")
        raise RiskInputError(f"{where}: field 'source' is not one SELECT: {detail}")
    nodes = list(_nodes(parsed))
    ctes = {entry["key"] for node in nodes for entry in (node.get("cte_map") or {}).get("map", [])}
    found = []
    for node in nodes:
        if node.get("type") not in {"BASE_TABLE", "TABLE_FUNCTION"} or "alias" not in node:
            continue
        if node["type"] == "TABLE_FUNCTION":
            found.append(("function", ""))
            continue
        schema, table = node.get("schema_name", ""), node.get("table_name", "")
        if schema or table not in ctes:
            found.append((schema, table))
    return found


def check_source(con: duckdb.DuckDBPyConnection, spec: ReleaseSpec, where: str) -> None:
    """Refuse a source that is not one SELECT over the allowed warehouse schemas."""
    for schema, table in source_tables(con, spec.source, where):
        if schema == "function":
            raise RiskInputError(
                f"{where}: field 'source' calls a table function; read warehouse tables only"
            )
        if schema not in SOURCE_SCHEMAS:
            raise RiskInputError(
                f"{where}: field 'source' reads {schema + '.' if schema else ''}{table}; "
                f"a release may read only the schemas {', '.join(SOURCE_SCHEMAS)} "
                "(special-category data in restricted is never released)"
            )


def _scratch(stage: str, name: str) -> str:
    """A table in the scratch database (the warehouse is the default catalog)."""
    return f"memory.main.{stage}_{name}"


def _published_columns(con: duckdb.DuckDBPyConnection, relation: str, key: str) -> list[str]:
    """Every column but the subject key (sources select nothing undeclared)."""
    return [r[0] for r in con.execute(f"describe {relation}").fetchall() if r[0] != key]


def _microdata(
    con: duckdb.DuckDBPyConnection, spec: ReleaseSpec, policy: ReleasePolicy, outcome: Outcome
) -> None:
    candidate, output = _scratch("candidate", spec.name), _scratch("gated", spec.name)
    columns = [r[0] for r in con.execute(f"describe {candidate}").fetchall()]
    if policy.subject_key not in columns:
        raise RiskInputError(
            f"{policy.path}: release {spec.name}: field 'source' must select "
            f"{policy.subject_key} (used to check releases jointly; never published)"
        )
    qi = list(spec.quasi_identifiers)
    outcome.quasi_identifiers, outcome.sensitive = qi, list(spec.sensitive)
    # Every published column is judged: an undeclared one would escape the measures.
    undeclared = [c for c in columns if c not in {policy.subject_key, *qi, *spec.sensitive}]
    if undeclared:
        raise RiskInputError(
            f"{policy.path}: release {spec.name}: field 'source' selects "
            f"{', '.join(undeclared)}, neither quasi-identifier nor sensitive attribute; "
            "declare it or leave it out of the source"
        )
    result = generalise(
        con,
        candidate,
        spec.quasi_identifiers,
        spec.sensitive,
        spec.thresholds,
        output=output,
    )
    outcome.before, outcome.after = result.before.to_dict(), result.after.to_dict()
    outcome.rows_before = result.before.rows
    outcome.levels = result.levels
    outcome.suppressed_rows = result.suppressed_rows
    outcome.information_loss = {
        "measure": result.loss_measure,
        "bits": result.loss,
        "normalised": result.loss_normalised,
        "nodes_checked": result.nodes_checked,
        "lattice_size": result.lattice_size,
    }
    if not result.passed:
        failures = spec.thresholds.failures(result.after.to_dict())
        outcome.block(
            "no generalisation meets the thresholds within the suppression budget "
            f"({result.suppressed_rows} of {result.before.rows} rows withheld at the most "
            f"general level{': ' + '; '.join(failures) if failures else ''})"
        )
        return
    outcome.passed = True
    outcome.rows_published = result.after.rows


def _aggregate(con: duckdb.DuckDBPyConnection, spec: ReleaseSpec, outcome: Outcome) -> None:
    candidate, output = _scratch("candidate", spec.name), _scratch("gated", spec.name)
    k = spec.thresholds.k
    table = suppress_count_table(con, candidate, spec.rows, spec.columns, k=k)
    inner = table.counts[:-1, :-1]
    shown = ~table.suppressed
    nonzero = table.counts > 0
    cells = int(table.counts.size)

    def smallest(mask) -> int | None:
        values = table.counts[mask & nonzero]
        return int(values.min()) if values.size else None

    outcome.quasi_identifiers = [spec.rows, spec.columns]
    outcome.rows_before = int(inner.sum())
    outcome.before = {
        "cells": cells,
        "smallest_nonzero_cell": smallest(nonzero),
        "cells_below_k": int(table.primary.sum()),
        "k_threshold": k,
    }
    outcome.after = {
        "cells": cells,
        "smallest_nonzero_cell": smallest(shown),
        "cells_below_k": int((shown & nonzero & (table.counts < k)).sum()),
        "k_threshold": k,
    }
    withheld = int(inner[table.suppressed[:-1, :-1]].sum())
    outcome.cells = {
        "primary_suppressed": int(table.primary.sum()),
        "secondary_suppressed": int(table.secondary.sum()),
    }
    outcome.suppressed_rows = withheld
    outcome.information_loss = {
        "measure": "share of counted records in withheld inner cells",
        "normalised": withheld / outcome.rows_before if outcome.rows_before else 0.0,
    }
    records = table.to_records()
    con.execute(
        f"create table {output} ({quote(spec.rows)} varchar, "
        f"{quote(spec.columns)} varchar, {quote(spec.count)} bigint)"
    )
    con.execute(
        f"insert into {output} select unnest(?::varchar[]), unnest(?::varchar[]), "
        "unnest(?::bigint[])",
        [
            [str(r["row"]) for r in records],
            [str(r["column"]) for r in records],
            [r["count"] for r in records],
        ],
    )
    outcome.rows_published = len(records)
    outcome.passed = outcome.after["cells_below_k"] == 0


def _linkage(
    con: duckdb.DuckDBPyConnection, policy: ReleasePolicy, outcomes: dict[str, Outcome]
) -> None:
    """Block every release in a combination (or alone) that fails with attacker knowledge."""
    passing = [
        spec for spec in policy.releases if spec.kind == "microdata" and outcomes[spec.name].passed
    ]
    if not passing:
        return
    # One k for every combination: the strictest of the releases involved.
    k = max(spec.thresholds.k for spec in passing)
    report = check_linkage(
        con,
        [Release(s.name, _scratch("gated", s.name), tuple(s.quasi_identifiers)) for s in passing],
        k=k,
        key=policy.subject_key,
        attacker_knowledge=policy.attacker_knowledge,
    )
    for combination in report.combinations:
        entry = {
            "releases": list(combination.releases),
            "quasi_identifiers": list(combination.qi),
            "subjects": combination.subjects,
            "k": combination.k,
            "k_threshold": k,
            "subjects_at_risk": combination.subjects_at_risk,
            "passed": combination.passed,
        }
        for name in combination.releases:
            outcomes[name].linkage.append(entry)
    for combination in report.failing:
        for name in combination.releases:
            partners = [n for n in combination.releases if n != name]
            joined = f"jointly with {', '.join(partners)}" if partners else "alone"
            outcomes[name].block(
                f"fails {joined} with attacker knowledge "
                f"({', '.join(policy.attacker_knowledge) or 'none'}): {combination.k} "
                f"student(s) in the smallest class < k = {k} over "
                f"{', '.join(combination.qi)}"
            )


def assess(policy: ReleasePolicy, staging: Path | None = None) -> list[dict[str, Any]]:
    """Judge every release; with ``staging``, write the passing ones there.

    Returns one outcome dict a release, in policy order. A release whose source or
    hierarchies are wrong is blocked with the error as its reason; the others go on.
    """
    warehouse = stores.store_path("warehouse")
    if not warehouse.exists():
        raise FileNotFoundError(f"{warehouse}: no warehouse yet; run transform_warehouse first")
    con = duckdb.connect()
    try:
        con.execute("attach ? as warehouse (read_only)", [str(warehouse)])
        con.execute("use warehouse")
        outcomes: dict[str, Outcome] = {}
        for spec in policy.releases:
            where = f"{policy.path}: release {spec.name}"
            outcome = Outcome(
                name=spec.name,
                kind=spec.kind,
                purpose=spec.purpose,
                description=spec.description,
                thresholds=spec.thresholds.__dict__.copy(),
            )
            outcomes[spec.name] = outcome
            try:
                check_source(con, spec, where)
                con.execute(f"create table {_scratch('candidate', spec.name)} as {spec.source}")
                if spec.kind == "microdata":
                    _microdata(con, spec, policy, outcome)
                else:
                    _aggregate(con, spec, outcome)
            except (RiskInputError, duckdb.Error) as exc:
                message = str(exc)
                outcome.block(
                    message if message.startswith(str(policy.path)) else f"{where}: {exc}"
                )
        _linkage(con, policy, outcomes)
        if staging is not None:
            _stage(con, policy, outcomes, staging)
        return [outcomes[name].to_dict() for name in policy.names]
    finally:
        con.close()


def _stage(
    con: duckdb.DuckDBPyConnection,
    policy: ReleasePolicy,
    outcomes: dict[str, Outcome],
    staging: Path,
) -> None:
    """Write the passing releases, without the subject key, to ``staging``."""
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.unlink(missing_ok=True)
    con.execute("attach ? as staged", [str(staging)])
    try:
        for name, outcome in outcomes.items():
            if not outcome.passed:
                continue
            columns = _published_columns(con, _scratch("gated", name), policy.subject_key)
            con.execute(
                f"create table staged.main.{name} as select "
                f"{', '.join(quote(c) for c in columns)} from {_scratch('gated', name)} "
                # Sorted: the source's row order could line rows up across releases.
                "order by all"
            )
            outcome.rows_published = con.execute(
                f"select count(*) from staged.main.{name}"
            ).fetchall()[0][0]
        con.execute("checkpoint staged")
    finally:
        con.execute("detach staged")

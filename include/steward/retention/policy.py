"""The retention policy (`include/policies/data.yaml`): per data category a period, the date
it runs from and what happens then, and per table in the catalogue the rule that follows.

A category's `retention` is either `{period, from, action, keep}` or `{exempt: reason}`.
Anchors are column anchors (the first of their `columns` a table has) or derived ones the
sweep computes (module end, the student's last module end, release publication, file
load, file written). `problems()` names every way the policy fails to cover the
catalogue: a category with no rule, a period that does not parse, an anchor a table
cannot resolve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from steward import catalog, contracts, data_policy, policy

ACTIONS = ("delete", "anonymise")
KEEPS = ("statutory", "subject_key")
# Anchors the sweep derives itself (steward.retention.plan); the policy describes them.
DERIVED_ANCHORS = (
    "module_end",
    "last_module_end",
    "release_publication",
    "file_load",
    "file_written",
)
# The derived anchors of files (the others are derived for tables).
FILE_ANCHORS = ("file_load", "file_written")
# A surrogate key `<thing>_key` derives from the subject key: kept when the subject key is.
SURROGATE_KEY = re.compile(r".+_key$")
# Load lineage of the raw tables (file, line, load time): not personal.
LINEAGE = frozenset(c for table in contracts.TABLES.values() for c in table.lineage)
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


class RetentionPolicyError(ValueError):
    """The retention policy cannot be applied to a table as written."""


@dataclass(frozen=True)
class Period:
    """An ISO-8601 duration of years, months, weeks and days (`P6Y`, `P18M`, `P90D`)."""

    text: str
    years: int = 0
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _DURATION.match(str(text))
        if not match or not any(match.groups()):
            raise ValueError(
                f"period {text!r} is not an ISO-8601 duration such as P2Y, P18M or P90D"
            )
        years, months, weeks, days = (int(g or 0) for g in match.groups())
        return cls(str(text), years, months, 7 * weeks + days)

    def cutoff(self, as_of: date) -> date:
        """The earliest anchor date still inside the period on `as_of`: anything anchored
        before it has been kept for the whole period and is due."""
        months = as_of.year * 12 + as_of.month - 1 - (12 * self.years + self.months)
        year, month = divmod(months, 12)
        month += 1
        day = min(as_of.day, _month_days(year, month))
        return date.fromordinal(date(year, month, day).toordinal() - self.days)


def _month_days(year: int, month: int) -> int:
    following = date(year + (month == 12), month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


@dataclass(frozen=True)
class Retention:
    """One category's rule."""

    category: str
    period: Period | None = None
    anchor: str | None = None
    action: str | None = None
    keep: frozenset[str] = frozenset()
    exempt: str | None = None


@dataclass(frozen=True)
class Rule:
    """What the sweep does to one table: its category's rule, resolved against its columns."""

    table: catalog.Table
    retention: Retention
    anchor_column: str | None  # a column anchor's column in this table
    clear: tuple[str, ...]  # anonymise: the columns set to null

    @property
    def action(self) -> str:
        return self.retention.action or "keep"


def document() -> dict[str, Any]:
    return policy.load("data").get("retention") or {}


def anchors() -> dict[str, dict[str, Any]]:
    return document().get("anchors") or {}


def file_folders() -> dict[str, str]:
    """Folder under STEWARD_HOME -> the category of the files in it."""
    return document().get("files") or {}


def approval() -> dict[str, Any]:
    return document().get("approval") or {}


def needs_approval(rows: int, rule: dict[str, Any] | None = None) -> bool:
    """Whether a sweep changing `rows` rows waits for a steward's approval."""
    rule = approval() if rule is None else rule
    over = rule.get("when_rows_over")
    return bool(rule.get("required")) or (over is not None and rows > int(over))


def _parse(category: str, entry: Any) -> Retention:
    where = f"data.yaml categories.{category}.retention"
    if not isinstance(entry, dict):
        raise RetentionPolicyError(f"{where}: missing; give period, from and action, or exempt")
    if entry.get("exempt"):
        return Retention(category, exempt=str(entry["exempt"]))
    try:
        period = Period.parse(entry.get("period"))
    except ValueError as exc:
        raise RetentionPolicyError(f"{where}: {exc}") from exc
    anchor = entry.get("from")
    if anchor not in anchors():
        raise RetentionPolicyError(
            f"{where}: anchor {anchor!r} is not declared in retention.anchors "
            f"({', '.join(anchors())})"
        )
    if entry.get("action") not in ACTIONS:
        raise RetentionPolicyError(f"{where}: action must be one of {', '.join(ACTIONS)}")
    keep = frozenset(entry.get("keep") or ())
    if keep - set(KEEPS):
        raise RetentionPolicyError(f"{where}: keep may name {', '.join(KEEPS)} only")
    if keep and entry["action"] != "anonymise":
        raise RetentionPolicyError(f"{where}: keep applies to anonymise only")
    return Retention(category, period, anchor, entry["action"], keep)


def retentions() -> dict[str, Retention]:
    """Every category's rule; raises on the first that is missing or malformed."""
    return {
        name: _parse(name, entry.get("retention"))
        for name, entry in data_policy.categories().items()
    }


def _column_policy(category: str) -> list[dict[str, Any]]:
    """Column policies of the tables data.yaml declares with columns in `category`."""
    declared = [t for t in data_policy.tables().values() if t["category"] == category]
    for tables in (policy.load("data").get("platform_tables") or {}).values():
        declared += [t for t in tables.values() if t["category"] == category and "columns" in t]
    return [t["columns"] for t in declared]


def _kept(retention: Retention, table: catalog.Table, columns: Iterable[str]) -> set[str]:
    """Columns an anonymised row keeps: the category's non-personal columns and lineage,
    statutory columns and the subject key (with its surrogate keys) when kept. By name, so
    a warehouse model's copy of a column is judged as the identified zone's original is."""
    kept = set(LINEAGE)
    for rules in _column_policy(retention.category):
        kept |= {c for c, r in rules.items() if r.get("sensitivity") == "none"}
        if "statutory" in retention.keep:
            kept |= {c for c, r in rules.items() if r.get("statutory")}
    if "subject_key" in retention.keep and table.subject_key:
        kept |= {table.subject_key} | {c for c in columns if SURROGATE_KEY.match(c)}
    return kept


def rule(table: catalog.Table, columns: list[str], retention: Retention) -> Rule:
    """The rule for `table` with these columns; raises when its anchor cannot be found."""
    where = f"{table.store} {table.name} (category {table.category})"
    anchor_column = None
    if retention.exempt is None:
        anchor = anchors()[retention.anchor]
        if anchor.get("columns"):
            anchor_column = next((c for c in anchor["columns"] if c in columns), None)
            if anchor_column is None:
                raise RetentionPolicyError(
                    f"{where}: anchor {retention.anchor!r} needs one of the columns "
                    f"{', '.join(anchor['columns'])}; the table has none. Add its date column "
                    f"to retention.anchors.{retention.anchor}.columns in data.yaml"
                )
        elif retention.anchor in FILE_ANCHORS:
            raise RetentionPolicyError(
                f"{where}: anchor {retention.anchor!r} applies to files only"
            )
        elif retention.anchor == "module_end" and "module_instance_id" not in columns:
            raise RetentionPolicyError(f"{where}: anchor 'module_end' needs module_instance_id")
        elif retention.anchor == "last_module_end" and table.key_kind not in {
            "student_id",
            "pseudonym",
        }:
            raise RetentionPolicyError(
                f"{where}: anchor 'last_module_end' needs a student id or pseudonym subject key"
            )
        elif retention.anchor == "release_publication" and table.store != "analyst":
            raise RetentionPolicyError(
                f"{where}: anchor 'release_publication' is for analyst releases"
            )
    clear: tuple[str, ...] = ()
    if retention.action == "anonymise":
        kept = _kept(retention, table, columns)
        clear = tuple(c for c in columns if c not in kept)
    return Rule(table, retention, anchor_column, clear)


def _declared_columns(table: catalog.Table) -> list[str] | None:
    """Columns known without opening a store: a raw table's contract, or the columns a
    platform table declares in data.yaml; None for the rest."""
    if table.origin == "extract":
        contract = contracts.TABLES[table.name.removeprefix("raw.")]
        return [*contract.column_names, *contract.lineage]
    if table.name in contracts.DERIVED_TABLES:
        return contracts.DERIVED_TABLES[table.name].column_names
    declared = (policy.load("data").get("platform_tables") or {}).get(table.store, {})
    columns = (declared.get(table.name) or {}).get("columns")
    return list(columns) if columns else None


def _category_problems() -> tuple[dict[str, Retention], list[str]]:
    found, parsed = [], {}
    for name, entry in data_policy.categories().items():
        try:
            parsed[name] = _parse(name, entry.get("retention"))
        except RetentionPolicyError as exc:
            found.append(str(exc))
    for name, anchor in anchors().items():
        if not anchor.get("columns") and name not in DERIVED_ANCHORS:
            found.append(
                f"data.yaml retention.anchors.{name}: neither columns nor one the sweep derives "
                f"({', '.join(DERIVED_ANCHORS)})"
            )
    for folder, category in file_folders().items():
        retention = parsed.get(category)
        if category not in data_policy.categories():
            found.append(f"data.yaml retention.files.{folder}: unknown category {category!r}")
        elif retention and not retention.exempt and retention.anchor not in FILE_ANCHORS:
            found.append(
                f"data.yaml retention.files.{folder}: category {category} must run from "
                f"{' or '.join(FILE_ANCHORS)}"
            )
    return parsed, found


def _table_problems(
    parsed: dict[str, Retention],
    tables: list[catalog.Table],
    columns: Callable[[catalog.Table], list[str] | None],
) -> list[str]:
    found = []
    for table in tables:
        retention = parsed.get(table.category)
        known = columns(table)
        if retention is None or retention.exempt or known is None:
            continue
        try:
            rule(table, known, retention)
        except RetentionPolicyError as exc:
            found.append(str(exc))
    return found


def static_problems() -> list[str]:
    """Problems found from data.yaml and the contracts alone (no dbt manifest, no store):
    what `data_policy.problems()` reports."""
    parsed, found = _category_problems()
    return found + _table_problems(parsed, catalog.declared_tables(), _declared_columns)


def problems(
    manifest: Path | None = None,
    columns: Callable[[catalog.Table], list[str] | None] | None = None,
) -> list[str]:
    """Every way the policy fails to cover the whole catalogue (dbt models and releases
    included). `columns` gives a table's columns (from a built store); without it, only
    tables whose columns are declared are checked against their anchors."""
    parsed, found = _category_problems()
    return found + _table_problems(parsed, catalog.tables(manifest), columns or _declared_columns)

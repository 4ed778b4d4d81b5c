"""The column policy (`include/policies/data.yaml`) and what follows from it: which columns
may leave the identified zone, and the dbt sources file whose `meta` restates it, generated
here so the two can never drift."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from steward import contracts, policy

TREATMENTS = {"keep", "pseudonymise", "age_band", "outcode", "restricted", "redact", "drop"}
SENSITIVITIES = {"none", "personal", "special_category"}
# dbt source (stg_<source>__<entity>s) that each canonical raw table belongs to.
SOURCE_OF = {
    "students": "sis",
    "staff": "sis",
    "courses": "sis",
    "modules": "sis",
    "module_instances": "sis",
    "enrolments": "sis",
    "assessments": "sis",
    "assessment_results": "sis",
    "vle_events": "vle",
    "vle_sites": "vle",
    "attendance": "timetable",
    "library_loans": "library",
    "consent_events": "consent",
    "case_notes": "notes",
    "subject_requests": "requests",
}
SOURCES_FILE = (
    Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "staging" / "_sources.yml"
)


@cache
def tables() -> dict[str, dict[str, Any]]:
    return policy.load("data")["tables"]


def categories() -> dict[str, dict[str, Any]]:
    return policy.load("data")["categories"]


def derived_tables() -> dict[str, dict[str, Any]]:
    """Column policy of the tables steward derives in the identified zone
    (`contracts.DERIVED_TABLES`), from data.yaml `platform_tables.identified`."""
    declared = policy.load("data").get("platform_tables", {}).get("identified", {})
    return {name: declared[name] for name in contracts.DERIVED_TABLES if name in declared}


def problems() -> list[str]:
    """Every way the column policy disagrees with the contract or with itself, or the
    retention policy fails to cover a category or a table."""
    found = []
    declared = tables()
    for name, table in contracts.TABLES.items():
        if name not in declared:
            found.append(f"table {name}: no entry in data.yaml")
            continue
        found += _table_problems(name, table, declared[name])
    derived = derived_tables()
    for name, table in contracts.DERIVED_TABLES.items():
        if "columns" not in derived.get(name, {}):
            found.append(f"table {name}: no entry with columns in data.yaml platform_tables")
            continue
        found += _table_problems(name, table, derived[name])
    # a category without a retention rule, or a table its anchor cannot be found in
    from steward.retention.policy import static_problems

    return found + static_problems()


def _table_problems(name: str, table: contracts.Table, entry: dict[str, Any]) -> list[str]:
    found = []
    purposes = set(policy.purpose_names())
    if entry.get("category") not in categories():
        found.append(f"table {name}: unknown category {entry.get('category')!r}")
    columns = entry["columns"]
    for missing in sorted(set(table.column_names) - set(columns)):
        found.append(f"{name}.{missing}: no policy entry")
    for extra in sorted(set(columns) - set(table.column_names)):
        found.append(f"{name}.{extra}: in policy but not in the contract")
    for col, rule in columns.items():
        where = f"{name}.{col}"
        if rule.get("treatment") not in TREATMENTS:
            found.append(f"{where}: unknown treatment {rule.get('treatment')!r}")
        if rule.get("sensitivity") not in SENSITIVITIES:
            found.append(f"{where}: unknown sensitivity {rule.get('sensitivity')!r}")
        needs = set(rule.get("purposes", []))
        if needs - purposes:
            found.append(f"{where}: undeclared purposes {sorted(needs - purposes)}")
        if rule.get("treatment") != "drop" and not needs:
            found.append(f"{where}: leaves the identified zone but no purpose needs it")
        if rule.get("sensitivity") == "special_category" and rule.get("treatment") not in {
            "restricted",
            "drop",
        }:
            found.append(f"{where}: special-category data must be restricted or dropped")
        if rule.get("pii") and rule.get("treatment") == "keep":
            found.append(f"{where}: a direct identifier cannot be kept as is")
    return found


def dbt_sources() -> str:
    """The dbt sources file, generated from the contract and the column policy."""
    sources: dict[str, list[dict[str, Any]]] = {}
    for name, table in contracts.TABLES.items():
        sources.setdefault(SOURCE_OF[name], []).append(_source_table(name, table, tables()[name]))
    derived: dict[str, list[dict[str, Any]]] = {}
    for qualified, table in contracts.DERIVED_TABLES.items():
        schema = qualified.split(".")[0]
        derived.setdefault(schema, []).append(
            _source_table(table.name, table, derived_tables()[qualified])
        )
    document = {
        "version": 2,
        "sources": [
            {
                "name": source,
                "database": "identified",
                "schema": "raw",
                "description": f"Canonical raw '{source}' tables in the identified zone (read-only).",
                "tables": entries,
            }
            for source, entries in sources.items()
        ]
        + [
            {
                "name": schema,
                "database": "identified",
                "schema": schema,
                "description": f"Tables steward derives in the identified zone ('{schema}'), "
                "read beside or in place of raw ones (read-only).",
                "tables": entries,
            }
            for schema, entries in derived.items()
        ]
        + [
            {
                "name": "identity",
                "database": "identified",
                "schema": "identity",
                "description": "The identity map: identifier -> keyed pseudonym. Restricted.",
                "tables": [
                    {
                        "name": "identity_map",
                        "meta": {"data_category": "student_record", "sensitivity": "personal"},
                    }
                ],
            }
        ],
    }
    header = (
        "# GENERATED by `steward policy dbt-sources` from include/policies/data.yaml and\n"
        "# include/steward/contracts.py. Do not edit: change the policy and regenerate.\n"
    )
    return header + yaml.safe_dump(document, sort_keys=False, width=100)


def _source_table(name: str, table: contracts.Table, entry: dict[str, Any]) -> dict[str, Any]:
    """One table of a dbt source: its category, and per column the policy as `meta`."""
    columns = []
    for col in table.columns:
        rule = entry["columns"][col.name]
        meta = {
            "treatment": rule["treatment"],
            "purposes": rule.get("purposes", []),
            "sensitivity": rule["sensitivity"],
        }
        if rule.get("pii"):
            meta["pii_entity"] = rule["pii"]
        if rule.get("statutory"):
            meta["statutory"] = True
        column = {"name": col.name, "data_type": col.type.lower(), "meta": meta}
        if rule.get("pii") or rule["sensitivity"] == "special_category":
            column["tags"] = ["pii"] if rule.get("pii") else ["special_category"]
        columns.append(column)
    sensitivities = {entry["columns"][c]["sensitivity"] for c in table.column_names}
    return {
        "name": name,
        "description": categories()[entry["category"]]["description"],
        "meta": {
            "data_category": entry["category"],
            "subject_key": entry.get("subject_key"),
            "sensitivity": "special_category"
            if "special_category" in sensitivities
            else ("personal" if "personal" in sensitivities else "none"),
        },
        "columns": columns,
    }


def write_dbt_sources() -> Path:
    SOURCES_FILE.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_FILE.write_text(dbt_sources())
    return SOURCES_FILE

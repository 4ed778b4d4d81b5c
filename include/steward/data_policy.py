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


def problems() -> list[str]:
    """Every way the column policy disagrees with the contract or with itself."""
    found = []
    purposes = set(policy.purpose_names())
    declared = tables()
    for name, table in contracts.TABLES.items():
        if name not in declared:
            found.append(f"table {name}: no entry in data.yaml")
            continue
        entry = declared[name]
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
        entry = tables()[name]
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
        sources.setdefault(SOURCE_OF[name], []).append(
            {
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


def write_dbt_sources() -> Path:
    SOURCES_FILE.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_FILE.write_text(dbt_sources())
    return SOURCES_FILE

"""Policy as code and the dbt graph's safety rules (the CI safety check)."""

from __future__ import annotations

import copy

import pytest

from steward import data_policy, lineage


def test_when_the_policy_is_read_then_it_covers_every_contract_column_consistently():
    assert data_policy.problems() == []


def test_when_dbt_sources_are_generated_then_the_committed_file_is_up_to_date():
    assert data_policy.SOURCES_FILE.read_text() == data_policy.dbt_sources(), (
        "dbt_project/models/staging/_sources.yml is stale: run `steward policy dbt-sources`"
    )


@pytest.mark.parametrize(
    ("table", "column", "change", "problem"),
    [
        (
            "students",
            "ethnicity",
            {"treatment": "keep"},
            "special-category data must be restricted or dropped",
        ),
        (
            "students",
            "email",
            {"treatment": "keep", "purposes": ["research"]},
            "a direct identifier cannot be kept",
        ),
        ("students", "sex", {"purposes": []}, "leaves the identified zone but no purpose needs it"),
        ("students", "sex", {"purposes": ["marketing"]}, "undeclared purposes ['marketing']"),
    ],
)
def test_when_the_policy_breaks_a_rule_then_the_problem_is_named(
    monkeypatch, table, column, change, problem
):
    tables = copy.deepcopy(data_policy.tables())
    tables[table]["columns"][column].update(change)
    monkeypatch.setattr(data_policy, "tables", lambda: tables)
    assert any(problem in p and f"{table}.{column}" in p for p in data_policy.problems())


def test_when_the_dbt_graph_is_checked_then_it_is_safe(dbt_manifest):
    import json

    assert lineage.problems(json.loads(dbt_manifest.read_text())) == []


def _with_model(manifest, name, folder, parents, meta=None):
    manifest = copy.deepcopy(manifest)
    manifest["nodes"][f"model.steward.{name}"] = {
        "resource_type": "model",
        "package_name": "steward",
        "name": name,
        "original_file_path": f"models/{folder}/{name}.sql",
        "depends_on": {"nodes": parents},
        "meta": meta or {},
        "config": {"meta": meta or {}},
    }
    return manifest


@pytest.mark.parametrize(
    ("name", "folder", "parents", "meta", "problem"),
    [
        (
            "fct_leaky_features",
            "marts",
            ["model.steward.restricted_students"],
            {},
            "selects from special-category data",
        ),
        (
            "rel_students",
            "release",
            ["model.steward.stg_sis__students"],
            {},
            "without the release gate",
        ),
        (
            "fct_direct",
            "marts",
            ["source.steward.sis.students"],
            {},
            "reads the identified zone directly",
        ),
    ],
)
def test_when_a_model_breaks_the_safety_rules_then_the_check_fails(
    dbt_manifest, name, folder, parents, meta, problem
):
    import json

    manifest = _with_model(json.loads(dbt_manifest.read_text()), name, folder, parents, meta)
    assert any(p.startswith(name) and problem in p for p in lineage.problems(manifest))


def test_when_a_fairness_model_reads_restricted_data_then_it_is_allowed(dbt_manifest):
    import json

    manifest = _with_model(
        json.loads(dbt_manifest.read_text()),
        "fct_fairness_groups",
        "marts",
        ["model.steward.restricted_students"],
        {"readers": ["fairness_monitoring"]},
    )
    assert lineage.problems(manifest) == []

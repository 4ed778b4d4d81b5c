"""The catalogue names the category and subject key of every table in every store."""

from __future__ import annotations

import json

import pytest

from steward import catalog, stores


def test_when_a_store_is_built_then_every_table_in_it_is_catalogued(built_home, monkeypatch):
    monkeypatch.setenv("STEWARD_HOME", str(built_home))
    for store in ("identified", "warehouse"):
        with stores.connect(store, read_only=True) as con:
            assert catalog.store_tables(con), f"{store} holds no tables"
            assert catalog.undeclared(store, con) == []


def test_when_a_table_is_not_declared_then_it_is_named(built_home, monkeypatch, tmp_path):
    monkeypatch.setenv("STEWARD_HOME", str(tmp_path))
    with stores.connect("warehouse") as con:
        con.execute(
            "create schema marts; create table marts.shadow_copy (student_pseudonym varchar)"
        )
        assert catalog.undeclared("warehouse", con) == ["marts.shadow_copy"]


def test_when_personal_tables_are_listed_then_each_has_a_subject_key_of_known_kind(dbt_manifest):
    subject = catalog.subject_tables(manifest=dbt_manifest)
    names = {(t.store, t.name) for t in subject}
    assert ("identified", "raw.students") in names
    assert ("warehouse", "scoring.predictions") in names
    assert ("warehouse", "marts.fct_module_results") in names
    assert ("identified", "raw.quarantine") in names  # found by text, not by key
    for table in subject:
        assert table.subject_text or table.key_kind in {"student_id", "username", "pseudonym"}, (
            table
        )


def test_when_a_dbt_model_lacks_a_category_then_the_catalogue_refuses(dbt_manifest, tmp_path):
    manifest = json.loads(dbt_manifest.read_text())
    node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model")
    node["config"]["meta"].pop("data_category")
    node.get("meta", {}).pop("data_category", None)
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(manifest))
    with pytest.raises(catalog.CatalogError, match=f"dbt model {node['name']}.*data_category"):
        catalog.tables(broken)


def test_when_a_table_names_an_unknown_category_then_the_catalogue_refuses(dbt_manifest, tmp_path):
    manifest = json.loads(dbt_manifest.read_text())
    node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model")
    node["config"]["meta"]["data_category"] = "gossip"
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(manifest))
    with pytest.raises(catalog.CatalogError, match="'gossip' is not declared"):
        catalog.tables(broken)

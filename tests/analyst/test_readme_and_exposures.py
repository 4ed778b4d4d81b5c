"""The README's section for analysts stays true (its example queries run on a released
store through the analyst profile; it names every release and its columns) and the dbt
exposures match the release policy."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from steward import access
from steward.release.exposures import EXPOSURES_FILE, dbt_exposures
from steward.release.policy import load_policy

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## For analysts"


def analyst_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(HEADING)
    end = text.find("\n## ", start + len(HEADING))
    return text[start : end if end != -1 else None]


EXAMPLES = re.findall(r"```sql\n(.*?)```", analyst_section(), flags=re.S)


def test_when_the_readme_is_read_then_it_has_example_queries_for_analysts():
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("sql", EXAMPLES, ids=lambda sql: sql.splitlines()[0].lstrip("- "))
def test_when_a_readme_example_query_runs_on_the_analyst_store_then_it_returns_rows(
    analyst_store, sql
):
    with access.analyst_connection() as con:
        rows = con.execute(sql).fetchall()
    assert rows, f"README example returned nothing:\n{sql}"


def test_when_the_readme_describes_the_releases_then_it_names_each_one_and_its_columns():
    section = analyst_section()
    for spec in load_policy().releases:
        row = next((line for line in section.splitlines() if f"| `{spec.name}` |" in line), None)
        assert row, f"README '{HEADING}' does not describe release {spec.name}"
        columns = (
            [*spec.quasi_identifiers, *spec.sensitive]
            if spec.kind == "microdata"
            else [spec.rows, spec.columns, spec.count]
        )
        missing = [c for c in columns if f"`{c}`" not in row]
        assert not missing, f"README row for {spec.name} lacks columns {missing}"


def test_when_exposures_are_generated_then_the_committed_file_is_up_to_date():
    assert EXPOSURES_FILE.read_text(encoding="utf-8") == dbt_exposures(), (
        f"{EXPOSURES_FILE} is stale: run `steward policy dbt-exposures`"
    )


def test_when_dbt_parses_the_project_then_each_release_is_an_exposure_on_the_models_it_reads(
    dbt_manifest,
):
    manifest = json.loads(dbt_manifest.read_text())
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert set(exposures) == set(load_policy().names)
    for spec in load_policy().releases:
        parents = exposures[spec.name]["depends_on"]["nodes"]
        read = {
            f"model.steward.{m}"
            for m in re.findall(r"\b(?:staging|intermediate|marts)\.(\w+)", spec.source)
        }
        assert set(parents) == read, spec.name
        assert exposures[spec.name]["config"]["meta"]["purpose"] == spec.purpose


def test_when_an_exposure_is_traced_upstream_then_it_never_reaches_special_category_data(
    dbt_manifest,
):
    manifest = json.loads(dbt_manifest.read_text())
    parents = manifest["parent_map"]
    for uid, exposure in manifest["exposures"].items():
        seen, stack = set(), [uid]
        while stack:
            for parent in parents.get(stack.pop(), []):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        restricted = [
            n
            for n in seen
            if n.startswith("model.") and "restricted" in manifest["nodes"][n]["original_file_path"]
        ]
        assert not restricted, f"{exposure['name']} descends from {restricted}"

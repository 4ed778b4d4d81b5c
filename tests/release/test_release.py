"""The release gate on a built warehouse: passing releases land in analyst.duckdb within
their thresholds, a release that fails only jointly is blocked and keeps its previous
version, and every release gets a risk report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from steward.release import run_release
from steward.release.policy import ReleasePolicyError, load_policy
from steward.risk import POLICY_HIERARCHIES, load_hierarchy, measure

# One row per student; `{columns}` are the release's quasi-identifiers.
STUDENTS = """
with outcomes as (
    select
        student_pseudonym,
        mode(left(module_instance_id, 2)) as subject_area,
        case
            when bool_or(is_withdrawn) then 'withdrew'
            when bool_or(result = '2') then 'failed a module'
            when bool_and(result = '1') then 'passed every module'
            else 'in progress'
        end as outcome
    from marts.fct_module_results
    group by student_pseudonym
)
select students.student_pseudonym, {columns}, outcomes.outcome
from staging.stg_sis__students as students
inner join outcomes on students.student_pseudonym = outcomes.student_pseudonym
"""
BY_AGE = {
    "kind": "microdata",
    "purpose": "research",
    "source": STUDENTS.format(
        columns="coalesce(age_band_at_reference, 'unknown') as age_band, sex"
    ),
    "quasi_identifiers": {"age_band": {"file": "age_band_at_reference.csv"}, "sex": {"flat": True}},
    "sensitive": ["outcome"],
}
BY_DEPRIVATION = {
    "kind": "microdata",
    "purpose": "research",
    "source": STUDENTS.format(
        columns="cast(imd_quintile as varchar) as imd_quintile, outcomes.subject_area"
    ),
    "quasi_identifiers": {
        "imd_quintile": {"file": "imd_quintile.csv"},
        "subject_area": {"flat": True},
    },
    "sensitive": ["outcome"],
}


def analyst_rows(home: Path, table: str) -> list[tuple]:
    con = duckdb.connect(str(home / "analyst.duckdb"), read_only=True)
    try:
        return sorted(con.execute(f"select * from {table}").fetchall(), key=repr)
    finally:
        con.close()


def manifest(home: Path) -> dict[str, str]:
    return dict(analyst_rows(home, "(select release_name, run_id from release_manifest)"))


def risk_report(home: Path, release: str) -> dict:
    return json.loads((home / "reports/releases" / release / "risk_report.json").read_text())


def test_when_the_policy_releases_run_then_each_lands_in_the_analyst_store_within_thresholds(
    release_home,
):
    policy = load_policy()
    summary = run_release()

    assert summary["published"] == list(policy.names)
    assert manifest(release_home) == dict.fromkeys(policy.names, summary["run_id"])
    con = duckdb.connect(str(release_home / "analyst.duckdb"), read_only=True)
    for spec in policy.releases:
        columns = [r[0] for r in con.execute(f"describe {spec.name}").fetchall()]
        assert not [c for c in columns if "pseudonym" in c], f"{spec.name} publishes a pseudonym"
        if spec.kind == "microdata":
            released = measure(
                con,
                spec.name,
                list(spec.quasi_identifiers),
                list(spec.sensitive),
                k=spec.thresholds.k,
            )
            assert released.rows > 0
            assert released.k >= spec.thresholds.k
            assert released.l_distinct >= spec.thresholds.l
            if spec.thresholds.l_measure == "entropy":
                assert released.l_entropy >= spec.thresholds.l - 1e-9
            assert released.t_closeness <= spec.thresholds.t
        else:
            counts = [r[0] for r in con.execute(f"select {spec.count} from {spec.name}").fetchall()]
            published = [n for n in counts if n is not None]
            assert all(n == 0 or n >= spec.thresholds.k for n in published), spec.name
            assert len(published) < len(counts), f"{spec.name}: 80 students leave no small cell?"
    con.close()


def test_when_releases_are_published_then_each_has_json_and_html_risk_reports(release_home):
    run_release()

    report = risk_report(release_home, "research_student_outcomes")
    assert report["status"] == "published"
    assert report["before"]["k"] < report["thresholds"]["k"] <= report["after"]["k"]
    assert report["rows_before"] - report["suppressed_rows"] == report["rows_published"]
    assert set(report["levels"]) == {"age_band", "sex", "imd_quintile", "subject_area"}
    assert 0 < report["information_loss"]["normalised"] <= 1
    page = (
        release_home / "reports/releases/research_student_outcomes/risk_report.html"
    ).read_text()
    assert "Measures before and after" in page and "published" in page
    cells = risk_report(release_home, "module_week_engagement")
    assert cells["before"]["cells_below_k"] > 0 and cells["after"]["cells_below_k"] == 0
    assert cells["cells"]["primary_suppressed"] == cells["before"]["cells_below_k"]
    con = duckdb.connect(str(release_home / "audit.duckdb"), read_only=True)
    logged = con.execute("select release_name, status, k_after from risk_reports").fetchall()
    con.close()
    assert {(name, status) for name, status, _ in logged} == {
        (name, "published") for name in load_policy().names
    }


def test_when_a_release_passes_alone_but_fails_jointly_then_it_is_blocked_and_keeps_its_previous_version(
    release_home, write_policy
):
    module_outcomes = load_policy().releases[-1]
    aggregate = {
        "kind": "aggregate",
        "purpose": module_outcomes.purpose,
        "source": module_outcomes.source,
        "rows": module_outcomes.rows,
        "columns": module_outcomes.columns,
        "count": module_outcomes.count,
    }
    first = run_release(
        policy_path=write_policy({"by_deprivation": BY_DEPRIVATION, "module_outcomes": aggregate})
    )
    assert first["published"] == ["by_deprivation", "module_outcomes"]
    previous = analyst_rows(release_home, "by_deprivation")

    second = run_release(
        policy_path=write_policy(
            {"by_age": BY_AGE, "by_deprivation": BY_DEPRIVATION, "module_outcomes": aggregate},
            name="joint.yaml",
        )
    )

    assert second["blocked"] == ["by_age", "by_deprivation"]
    assert second["published"] == ["module_outcomes"]
    for name in ("by_age", "by_deprivation"):
        report = risk_report(release_home, name)
        alone = [c for c in report["linkage"] if c["releases"] == [name]]
        assert alone and alone[0]["passed"], f"{name} must pass alone"
        assert report["status"] == "blocked"
        assert any("fails jointly with" in reason for reason in report["reasons"])
    assert analyst_rows(release_home, "by_deprivation") == previous
    assert manifest(release_home) == {
        "by_deprivation": first["run_id"],
        "module_outcomes": second["run_id"],
    }
    assert risk_report(release_home, "by_deprivation")["previous_version_kept"] is True
    with pytest.raises(duckdb.CatalogException, match="by_age"):
        analyst_rows(release_home, "by_age")


def test_when_a_source_reads_the_restricted_schema_then_the_release_is_blocked(
    release_home, write_policy
):
    leaky = {
        **BY_AGE,
        "source": "select student_pseudonym, 'x' as age_band, 'y' as sex, 'z' as outcome "
        "from restricted.restricted_students",
    }
    summary = run_release(policy_path=write_policy({"leaky": leaky}))

    assert summary["blocked"] == ["leaky"]
    assert (
        "reads restricted.restricted_students" in risk_report(release_home, "leaky")["reasons"][0]
    )
    assert analyst_rows(release_home, "release_manifest") == []


def test_when_a_source_selects_an_undeclared_column_then_the_release_is_blocked(
    release_home, write_policy
):
    extra = {
        **BY_AGE,
        "source": STUDENTS.format(columns="age_band_at_reference as age_band, sex, fee_status"),
    }
    summary = run_release(policy_path=write_policy({"extra": extra}))

    assert summary["blocked"] == ["extra"]
    reason = risk_report(release_home, "extra")["reasons"][0]
    assert "selects fee_status, neither quasi-identifier nor sensitive attribute" in reason


def test_when_a_dry_run_is_asked_then_nothing_is_written(release_home):
    summary = run_release(dry_run=True)

    assert summary["would_publish"] == list(load_policy().names)
    assert not (release_home / "analyst.duckdb").exists()
    assert not (release_home / "reports").exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "table"}, r"release bad: field 'kind' must be one of microdata, aggregate"),
        ({"purpose": "marketing"}, r"release bad: purpose 'marketing' is not declared"),
        ({"thresholds": {"k": 0}}, r"release bad: field 'thresholds': threshold k must be"),
        ({"source": ""}, r"release bad: field 'source' is required"),
        ({"sensitive": ["student_pseudonym"]}, r"release bad: publishes the subject key"),
    ],
)
def test_when_a_release_policy_is_malformed_then_loading_names_the_file_and_field(
    write_policy, change, message
):
    path = write_policy({"bad": {**BY_AGE, **change}})

    with pytest.raises(ReleasePolicyError, match=message):
        load_policy(path)


def test_when_the_age_band_hierarchy_is_read_then_it_covers_every_band_dbt_writes():
    macro = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "age_band.sql"
    bands = set(re.findall(r"(?:then|else) '([^']+)'", macro.read_text()))
    hierarchy = load_hierarchy(POLICY_HIERARCHIES / "age_band_at_reference.csv")

    assert bands and set(hierarchy.values) == bands | {"unknown"}

"""The transparency report is made from the policy, the dbt docs and the model card: it
names every purpose, category, role and release, follows a policy change, shows the model
in use, and holds no personal data."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import pytest
import yaml

from steward import cli, policy, report

AT = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def both(folder=policy.POLICY_DIR) -> str:
    markdown, page, _ = report.build(folder, generated_at=AT)
    return markdown + "\n" + page


def edit(folder, name: str, change) -> None:
    path = folder / f"{name}.yaml"
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_when_the_report_is_written_then_it_names_every_purpose_category_role_and_release(
    steward_home, dbt_manifest, tmp_path, capsys
):
    out = tmp_path / "out"
    assert cli.main(["report", "--out", str(out)]) == 0
    markdown = (out / "transparency.md").read_text()
    page = (out / "transparency.html").read_text()
    assert page.startswith("<!doctype html>") and "<table>" in page
    for text in (markdown, page):
        for purpose in policy.load("purposes")["purposes"]:
            assert purpose["name"] in text and purpose["lawful_basis"] in text
            assert purpose["owner_role"] in text
        for category in policy.load("data")["categories"]:
            assert f"`{category}`" in markdown and f"<code>{category}</code>" in page
        for release in policy.load("releases")["releases"]:
            assert release in text
        for role in policy.read("access")["roles"]:
            assert role in text
        assert "No model is in use yet" in text
    headings = [line[3:] for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == [
        "Data sources",
        "Purposes and lawful bases",
        "Metrics and how to read them",
        "Who has access to what",
        "How long data is kept",
        "How the algorithms work and how they are validated",
        "How to make a request",
    ]
    assert '"model_version": null' in capsys.readouterr().out


def test_when_the_dbt_docs_describe_a_mart_then_the_report_explains_its_columns(
    steward_home, dbt_manifest
):
    import json

    manifest = json.loads(dbt_manifest.read_text())
    markdown = report.build(generated_at=AT)[0]
    marts = [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and "/marts/" in n["original_file_path"]
    ]
    assert marts
    for node in marts:
        assert f"### `{node['name']}`" in markdown
        for column in node["columns"].values():
            if column.get("description"):
                meaning = " ".join(column["description"].split()).replace("|", "\\|")
                assert f"| `{column['name']}` | {meaning} |" in markdown


def test_when_no_retention_policy_is_declared_then_the_report_says_so(
    steward_home, dbt_manifest, policy_copy
):
    def strip(document):
        for category in document["categories"].values():
            category.pop("retention", None)

    edit(policy_copy, "data", strip)
    assert "No retention policy declared" in both(policy_copy)


def test_when_retention_is_declared_then_each_category_shows_its_period_anchor_and_action(
    steward_home, dbt_manifest
):
    data = policy.load("data")
    anchors = data["retention"]["anchors"]
    markdown = report.build(generated_at=AT)[0]
    assert "No retention policy declared" not in markdown
    rows = {
        line.split(" | ")[0][3:-1]: line for line in markdown.splitlines() if line.startswith("| `")
    }
    declared = 0
    for name, category in data["categories"].items():
        rule = category.get("retention") or {}
        if rule.get("exempt"):
            assert f"not swept: {' '.join(rule['exempt'].split())}" in rows[name]
            continue
        declared += 1
        action = {"delete": "deleted", "anonymise": "anonymised"}[rule["action"]]
        assert (
            f"| {report._period(rule['period'])} | {anchors[rule['from']]['description']} | {action}"
            in rows[name]
        )
    assert declared >= 5


@pytest.mark.parametrize(
    ("period", "shown"),
    [
        ("P2Y", "2 years"),
        ("P18M", "18 months"),
        ("P1Y6M", "1 year 6 months"),
        ("P90D", "90 days"),
        ("P2W", "14 days"),
    ],
)
def test_when_a_period_is_an_iso_duration_then_it_is_written_out(period, shown):
    assert report._period(period) == shown


def test_when_one_category_has_no_retention_rule_then_the_report_names_it(
    steward_home, dbt_manifest, policy_copy
):
    edit(policy_copy, "data", lambda d: d["categories"]["vle_activity"].pop("retention"))
    assert (
        "| `vle_activity` | no retention period declared |"
        in report.build(policy_copy, generated_at=AT)[0]
    )


def test_when_a_policy_value_changes_then_the_report_changes(
    steward_home, dbt_manifest, policy_copy
):
    before = both(policy_copy)
    assert both(policy_copy) == before, "the same policy must give the same report"

    def research_basis(document):
        research = next(p for p in document["purposes"] if p["name"] == "research")
        research["lawful_basis"] = "UK GDPR Art. 6(1)(f) legitimate interests (test basis)"

    edit(policy_copy, "purposes", research_basis)
    edit(policy_copy, "releases", lambda d: d["defaults"]["thresholds"].update(k=15))
    edit(
        policy_copy,
        "data",
        lambda d: d["categories"]["library_activity"]["retention"].update(period="P3Y"),
    )
    edit(policy_copy, "model", lambda d: d["promotion"].update(min_roc_auc=0.72))
    edit(
        policy_copy,
        "access",
        lambda d: d["roles"]["student_support"]["reads"].pop("warehouse"),
    )
    after = both(policy_copy)

    assert "UK GDPR Art. 6(1)(f) legitimate interests (test basis)" in after
    assert "UK GDPR Art. 6(1)(e) public task with Art. 89 safeguards" not in after
    assert "k = 15" in after and "k = 10" not in after
    assert "| `library_activity` | 2 years |" in before
    assert "| `library_activity` | 3 years |" in after
    assert "at least 0.72" in after and "at least 0.65" not in after
    grant = "`warehouse.duckdb` `scoring.interventions`"
    assert grant in before and grant not in after
    version = report.policy_version
    assert version(policy_copy) != version(policy.POLICY_DIR)


def test_when_the_access_policy_is_inconsistent_then_no_report_is_written(
    steward_home, dbt_manifest, policy_copy, tmp_path
):
    edit(
        policy_copy,
        "access",
        lambda d: d["roles"]["analyst"]["reads"].update(
            analyst={"releases": ["withdrawn_release"]}
        ),
    )
    with pytest.raises(ValueError, match=r"access\.yaml.*withdrawn_release"):
        report.publish(tmp_path / "out", policy_dir=policy_copy)
    assert not (tmp_path / "out").exists()


def test_when_a_model_is_in_use_then_the_report_shows_its_card_and_no_personal_data(
    modelled_home, dbt_manifest, monkeypatch, tmp_path
):
    import json

    monkeypatch.setenv("STEWARD_HOME", str(modelled_home))
    summary = report.publish(tmp_path)
    text = (tmp_path / "transparency.md").read_text() + (tmp_path / "transparency.html").read_text()
    card = json.loads(
        (modelled_home / "models" / summary["model_version"] / "card.json").read_text()
    )

    assert f"Version `{card['version']}`" in text
    assert f"| ROC AUC | {card['metrics']['roc_auc']:.3f} |" in text
    assert all(limit.split(";")[0] in text for limit in card["known_limits"])
    assert "No model is in use" not in text
    # per-group fairness rows stay out: group labels never appear, only counts of groups
    groups = {g["group"] for r in card["fairness"].values() for g in r["groups"]}
    labels = [g for g in groups - set(card["fairness"]) if "_" in g]
    assert labels and [g for g in labels if g in text] == []
    for attribute, result in card["fairness"].items():
        judged = sum(g["judged"] for g in result["groups"])
        assert f"| `{attribute}` | {judged} of {len(result['groups'])} |" in text

    con = duckdb.connect(str(modelled_home / "identified.duckdb"), read_only=True)
    personal = con.execute(
        """
        select unnest([student_id, first_name || ' ' || last_name, email, phone, postcode,
                       uln, husid, username, cast(birth_date as varchar)])
        from raw.students
        union all
        select unnest([staff_id, first_name || ' ' || last_name, email]) from raw.staff
        union all
        select pseudonym from identity.identity_map
        """
    ).fetchall()
    con.close()
    values = {v for (v,) in personal if v and len(v) >= 6}
    assert len(values) > 200
    leaked = sorted(v for v in values if v in text)
    assert leaked == [], f"the report holds personal data: {leaked[:5]}"

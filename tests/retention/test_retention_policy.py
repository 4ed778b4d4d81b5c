"""The retention policy covers every category and every table, in every zone, and each
table's anchor is a real column (or a date the sweep can derive)."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from steward import catalog, data_policy, stores
from steward.retention import plan, policy


def test_when_the_policy_is_read_then_every_category_has_a_retention_rule():
    assert data_policy.problems() == []
    for name in data_policy.categories():
        rule = policy.retentions()[name]
        assert rule.exempt or (rule.period and rule.anchor and rule.action), name


def test_when_a_category_has_no_retention_then_it_is_a_policy_problem(monkeypatch):
    categories = copy.deepcopy(data_policy.categories())
    del categories["vle_activity"]["retention"]
    monkeypatch.setattr(data_policy, "categories", lambda: categories)

    assert (
        "data.yaml categories.vle_activity.retention: missing; give period, from and action, or exempt"
        in (data_policy.problems())
    )


def test_when_a_table_lacks_its_anchor_column_then_it_is_a_policy_problem(monkeypatch):
    anchors = copy.deepcopy(policy.anchors())
    anchors["event_time"]["columns"] = ["happened_on"]
    monkeypatch.setattr(policy, "anchors", lambda: anchors)

    found = data_policy.problems()
    assert any(
        p.startswith("identified raw.vle_events (category vle_activity): anchor 'event_time'")
        for p in found
    )
    assert any("raw.library_loans" in p and "happened_on" in p for p in found)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"period": "two years"}, "period 'two years' is not an ISO-8601 duration"),
        ({"from": "graduation"}, "anchor 'graduation' is not declared in retention.anchors"),
        ({"action": "archive"}, "action must be one of delete, anonymise"),
        ({"keep": ["statutory"]}, "keep applies to anonymise only"),
    ],
)
def test_when_a_retention_rule_is_malformed_then_the_problem_is_named(monkeypatch, change, problem):
    categories = copy.deepcopy(data_policy.categories())
    categories["attendance"]["retention"].update(change)
    monkeypatch.setattr(data_policy, "categories", lambda: categories)

    assert any(
        p.startswith("data.yaml categories.attendance.retention") and problem in p
        for p in data_policy.problems()
    )


def test_when_every_store_is_built_then_every_table_has_a_rule_that_resolves(
    retention_base, dbt_manifest, monkeypatch
):
    monkeypatch.setenv("STEWARD_HOME", str(retention_base))
    columns: dict[tuple[str, str], list[str]] = {}
    for store in plan.DB_STORES:
        with stores.connect(store, read_only=True) as con:
            assert catalog.undeclared(store, con, dbt_manifest) == [], store
            columns |= {(store, name): cols for name, cols in plan.store_columns(con).items()}

    assert policy.problems(dbt_manifest, lambda t: columns.get((t.store, t.name))) == []
    rules = policy.retentions()
    personal = [t for t in catalog.tables(dbt_manifest) if t.is_personal]
    assert personal
    for table in personal:
        assert table.category in rules, f"{table.store} {table.name}"
    # every folder of files the platform keeps is covered, landing and exports included
    assert set(policy.file_folders()) == {"landing", "exports"}


def test_when_a_statutory_table_is_anonymised_then_outcomes_and_the_student_are_kept():
    table = next(t for t in catalog.declared_tables() if t.name == "raw.enrolments")
    columns = [*data_policy.tables()["enrolments"]["columns"], "_loaded_at"]

    rule = policy.rule(table, columns, policy.retentions()["enrolment"])

    statutory = {
        c for c, r in data_policy.tables()["enrolments"]["columns"].items() if r.get("statutory")
    }
    assert statutory == {"actual_mark", "agreed_mark", "agreed_grade", "result", "withdrawal_date"}
    assert not statutory & set(rule.clear)
    assert {"student_id", "module_instance_id", "_loaded_at"}.isdisjoint(rule.clear)
    assert {"registration_date", "prior_attempts", "enrolment_id"} <= set(rule.clear)


@pytest.mark.parametrize(
    ("period", "as_of", "cutoff"),
    [
        ("P2Y", date(2030, 1, 1), date(2028, 1, 1)),
        ("P6Y", date(2034, 3, 15), date(2028, 3, 15)),
        ("P1Y", date(2028, 2, 29), date(2027, 2, 28)),
        ("P18M", date(2030, 1, 1), date(2028, 7, 1)),
        ("P90D", date(2030, 1, 1), date(2029, 10, 3)),
        ("P2W", date(2030, 1, 15), date(2030, 1, 1)),
    ],
)
def test_when_a_period_is_given_then_its_cutoff_is_that_long_before_the_sweep(
    period, as_of, cutoff
):
    assert policy.Period.parse(period).cutoff(as_of) == cutoff


@pytest.mark.parametrize("text", ["2Y", "P", "P-1Y", "PT5H", "six years"])
def test_when_a_period_is_not_a_duration_then_it_is_refused(text):
    with pytest.raises(ValueError, match="is not an ISO-8601 duration"):
        policy.Period.parse(text)


@pytest.mark.parametrize(
    ("rule", "rows", "asks"),
    [
        ({"required": False, "when_rows_over": None}, 10**9, False),
        ({"required": True, "when_rows_over": None}, 1, True),
        ({"required": False, "when_rows_over": 1000}, 1000, False),
        ({"required": False, "when_rows_over": 1000}, 1001, True),
    ],
)
def test_when_rows_are_due_then_approval_is_asked_only_as_the_policy_says(rule, rows, asks):
    assert policy.needs_approval(rows, rule) is asks


def test_when_the_policy_is_as_shipped_then_unattended_sweeps_need_no_approval():
    assert policy.needs_approval(10**9) is False

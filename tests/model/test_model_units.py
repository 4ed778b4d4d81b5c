"""Metrics, the stability check and intervention outcomes on small, exact inputs."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from steward.model import policy as model_policy
from steward.model import registry, score, stability, validate


def test_when_scores_match_observed_rates_then_calibration_error_is_zero():
    y = np.array([0] * 9 + [1] + [0] * 5 + [1] * 5)
    p = np.array([0.1] * 10 + [0.5] * 10)

    result = validate.metrics(y, p, bins=10)

    assert result["expected_calibration_error"] == pytest.approx(0.0)
    rows = {r["bin_lower"]: r for r in result["reliability"] if r["rows"]}
    assert rows[0.1]["observed_rate"] == pytest.approx(0.1)
    assert rows[0.5]["observed_rate"] == pytest.approx(0.5)


def test_when_only_one_outcome_is_present_then_metrics_refuse():
    with pytest.raises(ValueError, match="only one outcome class"):
        validate.metrics(np.zeros(5), np.full(5, 0.2), bins=10)


def test_when_a_feature_predicts_only_in_one_year_then_it_is_flagged_unstable():
    rng = np.random.default_rng(0)
    n = 2000
    label = rng.integers(0, 2, n)
    year = np.repeat([2024, 2025], n // 2)
    frame = pd.DataFrame(
        {
            "student_pseudonym": [f"s{i}" for i in range(n)],
            "module_instance_id": "M",
            "module_id": "M",
            "academic_year": year,
            "label": label,
            "steady": label + rng.normal(0, 1, n),
            "proxy": np.where(year == 2024, label * 5, 0) + rng.normal(0, 1, n),
        }
    )
    rules = {"max_auc_shift": 0.10, "min_z": 3.0, "min_group_enrolments": 100}

    findings = stability.check(frame, ["steady", "proxy"], rules)

    assert stability.unstable_features(findings) == ["proxy"]


def test_when_followup_weeks_have_passed_then_recovery_is_recorded_per_intervention():
    con = duckdb.connect()
    registry.ensure(con)
    con.execute("create schema marts")
    con.execute(
        "create table marts.fct_student_week_features as select * from (values "
        "('up', 'M', 3, 1), ('up', 'M', 4, 3), ('up', 'M', 5, 4), "
        "('down', 'M', 3, 2), ('down', 'M', 4, 0), ('down', 'M', 5, 1), "
        "('late', 'N', 3, 0), ('late', 'N', 4, 0)) "
        "as t(student_pseudonym, module_instance_id, week_number, active_days)"
    )
    for pseudonym, module, baseline in (("up", "M", 1.0), ("down", "M", 2.0), ("late", "N", 0.0)):
        con.execute(
            "insert into scoring.interventions values (?, ?, ?, 3, 'p', 'v', 0.5, 'high', "
            "now(), ?, 2, null, null, null)",
            [pseudonym, pseudonym, module, baseline],
        )

    counts = score.record_outcomes(con)

    assert counts == {"outcomes_recorded": 2, "engagement_recovered": 1}
    outcomes = dict(
        con.execute(
            "select student_pseudonym, is_engagement_recovered from scoring.interventions"
        ).fetchall()
    )
    assert outcomes == {"up": True, "down": False, "late": None}


@pytest.mark.parametrize(
    ("score_value", "band"), [(0.05, "low"), (0.2, "medium"), (0.34, "medium"), (0.35, "high")]
)
def test_when_a_score_is_banded_then_the_policy_bounds_apply(score_value, band):
    assert score.risk_band(np.array([score_value]), model_policy.load())[0] == band


def test_when_model_commands_are_parsed_then_each_action_has_its_handler():
    import argparse

    from steward.model.cli import add_model_parser, cmd_card, cmd_score, cmd_train

    parser = argparse.ArgumentParser(prog="steward")
    add_model_parser(parser.add_subparsers(dest="command"))

    assert parser.parse_args(["model", "train", "--force"]).func is cmd_train
    assert parser.parse_args(["model", "score"]).func is cmd_score
    card = parser.parse_args(["model", "card", "--version", "v1", "--json"])
    assert (card.func, card.version, card.json) == (cmd_card, "v1", True)

"""Metrics, the stability check, fairness, derived features, the pipeline and intervention
outcomes on small, exact inputs."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from steward.model import (
    card,
    encoding,
    fairness,
    features,
    registry,
    score,
    stability,
    train,
    validate,
)
from steward.model import policy as model_policy
from steward.model.context import StudentContext


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


def test_when_a_steady_feature_spreads_by_chance_across_many_modules_then_it_is_kept():
    rng = np.random.default_rng(0)
    modules, per_module = 30, 200
    n = modules * per_module
    label = rng.integers(0, 2, n)
    module = np.repeat([f"M{i:02d}" for i in range(modules)], per_module)
    in_five_modules = np.isin(module, [f"M{i:02d}" for i in range(5)])
    frame = pd.DataFrame(
        {
            "student_pseudonym": [f"s{i}" for i in range(n)],
            "module_instance_id": module,
            "module_id": module,
            "academic_year": 2024,
            "label": label,
            "steady": label + rng.normal(0, 1, n),
            "local_proxy": np.where(in_five_modules, label * 3, 0) + rng.normal(0, 1, n),
        }
    )
    rules = {"max_auc_shift": 0.10, "min_z": 3.0, "min_group_enrolments": 100}

    findings = {f.feature: f for f in stability.check(frame, ["steady", "local_proxy"], rules)}

    steady = findings["steady"]
    # Highest vs lowest of 30 modules: past min_z for a single comparison, by chance alone.
    assert steady.shift > 0.10 and steady.z > 3.0
    assert steady.z_required == pytest.approx(4.52, abs=0.01)
    assert stability.unstable_features(list(findings.values())) == ["local_proxy"]


ENCODING = {"feature": "module_fail_rate", "key": "module_id", "smoothing": 20, "folds": 5}


def _enrolments(rng: np.random.Generator, n: int, rates: dict[str, float]) -> pd.DataFrame:
    """Three weekly rows per enrolment, modules with the given fail rates."""
    module = rng.choice(list(rates), n)
    label = (rng.random(n) < np.vectorize(rates.get)(module)).astype(int)
    one = pd.DataFrame(
        {
            "student_pseudonym": [f"s{i}" for i in range(n)],
            "module_instance_id": [f"{m}-2024" for m in module],
            "module_id": module,
            "label": label,
        }
    )
    return pd.concat([one] * 3, ignore_index=True)


def test_when_modules_differ_in_fail_rate_then_the_encoding_learns_them_and_shrinks_small_ones():
    rng = np.random.default_rng(0)
    train = _enrolments(rng, 4000, {"EASY": 0.1, "HARD": 0.5})
    small = pd.DataFrame(
        {
            "student_pseudonym": ["t1", "t2"],
            "module_instance_id": "TINY-2024",
            "module_id": "TINY",
            "label": [1, 1],
        }
    )

    rates = encoding.fit(pd.concat([train, small], ignore_index=True), ENCODING)

    assert rates.rates["EASY"] == pytest.approx(0.1, abs=0.03)
    assert rates.rates["HARD"] == pytest.approx(0.5, abs=0.03)
    # Two failing enrolments move a new module only part of the way from the overall rate.
    assert rates.overall < rates.rates["TINY"] < 0.5
    unseen = pd.DataFrame({"module_id": ["NEW", None]})
    assert rates.apply(unseen).tolist() == [rates.overall, rates.overall]


def test_when_a_training_row_is_encoded_then_its_own_outcome_does_not_move_its_value():
    rng = np.random.default_rng(1)
    train = _enrolments(rng, 600, {"A": 0.2, "B": 0.4})
    flipped = train.assign(
        label=np.where(train["student_pseudonym"] == "s0", 1 - train["label"], train["label"])
    )

    before = encoding.cross_fitted(train, ENCODING)
    after = encoding.cross_fitted(flipped, ENCODING)

    mine = (train["student_pseudonym"] == "s0").to_numpy()
    assert after[mine].tolist() == before[mine].tolist()
    assert not np.allclose(after[~mine], before[~mine])  # other folds do see it
    # Each row's value is the rate fitted without its own fold of students.
    fold = pd.util.hash_pandas_object(train["student_pseudonym"], index=False) % 5
    row = int(np.flatnonzero(mine)[0])
    others = train[(fold != fold.iloc[row]).to_numpy()]
    assert before[row] == pytest.approx(encoding.fit(others, ENCODING).apply(train.iloc[[row]])[0])


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


FAIRNESS = {
    "attributes": {"religion": {}},
    "min_group_positives": 50,
    "min_group_students": 30,
    "min_z": 1.645,
}


def _decisions(groups: dict[str, tuple[int, float]]) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """One positive enrolment per student; per group (positives, share flagged)."""
    y_true, y_pred, students, group_of = [], [], [], {}
    for group, (positives, tpr) in groups.items():
        flagged = round(positives * tpr)
        for i in range(positives):
            pseudonym = f"{group}-{i}"
            students.append(pseudonym)
            group_of[pseudonym] = group
            y_true.append(1)
            y_pred.append(int(i < flagged))
    frame = pd.DataFrame({"student_pseudonym": students})
    frame["religion"] = frame["student_pseudonym"].map(group_of)
    return np.array(y_true), np.array(y_pred), frame


@pytest.mark.parametrize(
    ("groups", "gated"),
    [
        # 0.12 below the largest group on 55 positive students: within noise for a group
        # that small, once three assessed groups give three pairs to compare.
        ({"big": (900, 0.45), "mid": (700, 0.44), "small": (55, 18 / 55), "tiny": (20, 0.0)}, None),
        # The same gap on 800 positive students is real.
        (
            {"big": (900, 0.45), "mid": (700, 0.44), "other": (800, 0.3275), "tiny": (20, 0.0)},
            0.1225,
        ),
    ],
)
def test_when_groups_differ_in_true_positive_rate_then_only_a_gap_beyond_noise_is_gated(
    groups, gated
):
    y_true, y_pred, frame = _decisions(groups)

    result = fairness.assess(y_true, y_pred, frame["student_pseudonym"], frame, FAIRNESS)

    religion = result["religion"]
    assessed = {g["group"]: g["judged"] for g in religion["groups"]}
    assert assessed["tiny"] is False and assessed["big"] is True
    assert religion["equal_opportunity_difference"] == pytest.approx(0.1226, abs=0.001)
    if gated is None:
        assert religion["equal_opportunity_gap"] is None
    else:
        gap = religion["equal_opportunity_gap"]
        assert (gap["higher"], gap["lower"]) == ("big", "other")
        assert gap["difference"] == pytest.approx(gated, abs=1e-9)
        assert gap["z"] > gap["z_required"] > FAIRNESS["min_z"]


def test_when_a_group_is_too_small_then_the_card_shows_it_as_not_assessed():
    y_true, y_pred, frame = _decisions({"big": (900, 0.45), "tiny": (20, 0.0)})
    result = fairness.assess(y_true, y_pred, frame["student_pseudonym"], frame, FAIRNESS)
    rows = [
        line
        for line in card.markdown(_card_with_fairness(result)).splitlines()
        if line.startswith("| religion |")
    ]

    assert any("| tiny |" in r and r.endswith("| not assessed (too small) |") for r in rows)
    assert any("| big |" in r and r.endswith("| yes |") for r in rows)
    assert any("none beyond noise" in r for r in rows)


def _card_with_fairness(result: dict) -> dict:
    metrics = {"roc_auc": 0.7, "pr_auc": 0.4, "brier": 0.1}
    metrics |= {"expected_calibration_error": 0.01, "positive_rate": 0.2}
    return {
        "name": "m",
        "version": "v",
        "verdict": "promoted",
        "owner": "o",
        "trained_at": "t",
        "purpose": "p",
        "data": {
            "source": "s",
            "label": "l",
            "weeks": [0, 12],
            "train_presentations": [2024],
            "test_presentations": [2025],
            "rows": {"train": 1, "test": 1},
            "training_snapshot": "x",
        },
        "features": ["f"],
        "dropped_features": {},
        "metrics": metrics,
        "calibration": [],
        "fairness": result,
        "flag_bands": ["high"],
        "failures": [],
        "known_limits": [],
    }


def test_when_a_student_has_several_modules_in_a_week_then_the_context_is_their_mean():
    frame = pd.DataFrame(
        {
            "student_pseudonym": ["a", "a", "a", "b"],
            "week_start_date": ["2025-10-06", "2025-10-06", "2025-10-13", "2025-10-06"],
            "events_total_to_date": [0.0, np.e**2 - 1, 5.0, 3.0],
            "attendance_rate_to_date": [0.5, np.nan, np.nan, 1.0],
        }
    )
    context = StudentContext(
        "student_",
        ("events_total_to_date", "attendance_rate_to_date"),
        frozenset({"events_total_to_date"}),
    )

    derived = context.apply(frame)

    # Counts are averaged as log(1 + x); a missing value is left out of the mean.
    assert derived["student_events_total_to_date"].tolist() == pytest.approx(
        [1.0, 1.0, np.log(6.0), np.log(4.0)]
    )
    assert derived["student_attendance_rate_to_date"][:2].tolist() == [0.5, 0.5]
    assert np.isnan(derived["student_attendance_rate_to_date"][2])


def test_when_vectors_are_hashed_together_then_each_hash_is_the_single_vector_hash():
    names = ["week_number", "entry_points", "events_total_to_date"]
    x = np.array([[3.0, np.nan, 12.0], [0.0, 112.0, 1 / 3], [1e20, 5e-324, -0.0]])

    hashes = features.feature_hashes(names, x)

    assert hashes == [
        features.feature_hash(names, [3.0, None, 12.0]),
        features.feature_hash(names, [0.0, 112.0, 1 / 3]),
        features.feature_hash(names, [1e20, 5e-324, -0.0]),
    ]
    assert features.feature_hashes(names, x[:0]) == []


def _fitted(weeks=(0, 12)) -> tuple[train.RiskModel, np.ndarray]:
    rng = np.random.default_rng(0)
    n = 3000
    x = np.column_stack(
        [
            rng.integers(0, 13, n).astype(float),
            rng.poisson(20, n).astype(float),
            np.where(rng.random(n) < 0.2, np.nan, rng.normal(100, 20, n)),
        ]
    )
    logit = -1 + 0.1 * x[:, 0] - 0.05 * x[:, 1] + np.nan_to_num(x[:, 2] - 100) / 50
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    names = ["week_number", "events_total_to_date", "entry_points"]
    pipeline = train.build_pipeline(names, frozenset({"events_total_to_date"}), 1.0, weeks)
    pipeline.fit(x, y)
    return train.RiskModel("v", names, pipeline, pd.Timestamp.now(tz="UTC")), x


def test_when_contributions_are_summed_then_they_give_the_score_s_log_odds():
    model, x = _fitted()

    contributions = model.contributions(x[:200])

    log_odds = model.pipeline.decision_function(x[:200])
    intercept = model.pipeline[-1].intercept_[0]
    assert contributions.sum(axis=1) + intercept == pytest.approx(log_odds)
    order, amounts = model.top_contributions(x[:200], 2)
    assert order.shape == (200, 2)
    assert np.all(np.abs(amounts[:, 0]) >= np.abs(amounts[:, 1]))


def test_when_a_week_lies_after_the_window_then_it_is_scored_as_the_last_week():
    model, x = _fitted()
    later = x[:5].copy()
    later[:, 0] = 20.0
    last = x[:5].copy()
    last[:, 0] = 12.0

    assert model.score(later).tolist() == model.score(last).tolist()
    assert model.score(last).tolist() != model.score(x[:5]).tolist()

"""Training, the promotion gate, scoring and interventions on a generated institution."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from steward.model import features, registry, run
from steward.model import policy as model_policy

RESTRICTED_COLUMNS = {"ethnicity", "disability", "religion", "care_leaver"}


def warehouse(home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)


def test_when_policy_is_read_then_no_special_category_attribute_is_a_candidate_feature():
    policy = model_policy.load()
    assert RESTRICTED_COLUMNS.isdisjoint(policy.candidate_features)
    assert policy.fairness["max_equal_opportunity_difference"] == 0.10


def test_when_a_sound_model_is_trained_then_it_is_promoted_without_the_spurious_feature(
    model_home,
):
    summary = run.train(force=True)

    assert summary["verdict"] == "promoted", summary["failures"]
    assert summary["current"] == summary["version"]
    assert "print_credits" in summary["dropped_features"]
    assert "unstable" in summary["dropped_features"]["print_credits"]
    folder = model_home / "models" / summary["version"]
    card = json.loads((folder / "card.json").read_text())
    assert "print_credits" not in card["features"]
    assert RESTRICTED_COLUMNS.isdisjoint(card["features"])
    for key in ("purpose", "data", "metrics", "calibration", "fairness", "known_limits"):
        assert card[key], key
    assert card["owner"] == "head_of_student_services"
    assert len(card["calibration"]) == 10
    markdown = (folder / "card.md").read_text()
    assert "`print_credits`: unstable association with the outcome across academic_year" in (
        markdown
    )
    with warehouse(model_home) as con:
        row = con.execute(
            "select verdict, status, training_snapshot, metrics->>'$.roc_auc' "
            "from scoring.model_registry where model_version = ?",
            [summary["version"]],
        ).fetchone()
    assert row[:2] == ("promoted", "current")
    assert row[2] and float(row[3]) == pytest.approx(summary["roc_auc"], abs=1e-4)


def test_when_a_model_keeps_the_spurious_feature_then_it_is_refused_and_the_current_one_scores(
    model_home,
):
    sound = run.train(force=True)
    spurious = run.train(force=True, drop_unstable=False)

    assert spurious["verdict"] == "refused"
    missed = {f["threshold"]: f for f in spurious["failures"]}
    assert "max_unstable_features_used (print_credits)" in missed
    calibration = missed["max_expected_calibration_error"]
    assert calibration["actual"] > 0.05
    assert calibration["by"] == pytest.approx(calibration["actual"] - 0.05, abs=1e-4)
    assert spurious["current"] == sound["version"]

    scored = run.score_students()
    assert scored["model_version"] == sound["version"]
    assert scored["scored"] > 0


def test_when_the_threshold_depends_on_a_group_then_the_fairness_gate_refuses(model_home):
    def favour_one_group(scores: np.ndarray, groups) -> np.ndarray:
        # Flags everyone without a religion and nobody else: equal opportunity broken.
        return (groups["religion"] == "No religion").to_numpy().astype(int)

    sound = run.train(force=True)
    unfair = run.train(force=True, decide=favour_one_group)

    assert unfair["verdict"] == "refused"
    (failure,) = [f for f in unfair["failures"] if "equal_opportunity" in f["threshold"]]
    assert failure["threshold"] == "max_equal_opportunity_difference[religion]"
    assert failure["actual"] == pytest.approx(1.0)
    assert failure["by"] == pytest.approx(0.9)
    assert unfair["current"] == sound["version"]


def test_when_a_student_has_no_intervention_consent_then_no_intervention_reaches_them(
    model_home,
):
    run.train(force=True)
    scored = run.score_students()
    counts = run.create_interventions(scored["run_id"])

    with warehouse(model_home) as con:
        consented = {
            r[0]
            for r in con.execute(
                f"select student_pseudonym from {features.COHORT_TABLE}"
            ).fetchall()
        }
        flagged = con.execute(
            "select student_pseudonym from scoring.predictions where run_id = ? "
            "and risk_band = 'high'",
            [scored["run_id"]],
        ).fetchall()
        contacted = {
            r[0]
            for r in con.execute("select student_pseudonym from scoring.interventions").fetchall()
        }
    without_consent = [p for (p,) in flagged if p not in consented]
    assert without_consent, "fixture must have flagged students without consent"
    assert contacted and contacted <= consented
    assert contacted.isdisjoint(without_consent)
    assert counts["withheld_no_consent"] == len(without_consent)
    assert counts["interventions_created"] == len(flagged) - len(without_consent)

    again = run.create_interventions(scored["run_id"])
    assert again["interventions_created"] == 0, "a student is not contacted twice for a week"


def test_when_a_prediction_is_rescored_from_its_record_then_score_and_hash_are_identical(
    model_home,
):
    run.train(force=True)
    scored = run.score_students()

    with warehouse(model_home) as con:
        rows = con.execute(
            "select model_version, features, feature_hash, score, explanation "
            "from scoring.predictions where run_id = ? order by prediction_id limit 50",
            [scored["run_id"]],
        ).fetchall()
        model = registry.load(con, rows[0][0])
    assert len(rows) == 50
    recorded = [json.loads(r[1]) for r in rows]
    vectors = [[values[name] for name in model.features] for values in recorded]
    assert [features.feature_hash(model.features, v) for v in vectors] == [r[2] for r in rows]
    # Same model, same features: the same score up to the last bits BLAS may round
    # differently when the batch differs (here 50 rows, at scoring time all of them).
    rescored = model.score(features.matrix(vectors))
    assert rescored.tolist() == pytest.approx([r[3] for r in rows], rel=1e-12, abs=1e-15)
    top = json.loads(rows[0][4])
    assert len(top) == model_policy.load().top_k
    assert {t["feature"] for t in top} <= set(model.features)


def test_when_a_model_file_is_altered_then_loading_it_fails_with_a_clear_error(model_home):
    version = run.train(force=True)["version"]
    artifact = model_home / "models" / version / "model.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"\0")

    with duckdb.connect(str(model_home / "warehouse.duckdb"), read_only=True) as con:
        with pytest.raises(ValueError, match=rf"model.joblib: file does not match .* {version}"):
            registry.load(con, version)


def test_when_training_is_not_due_then_no_model_is_trained(model_home):
    first = run.train(force=True)
    second = run.train()

    assert second == {"trained": False, "reason": "not due", "current": first["version"]}

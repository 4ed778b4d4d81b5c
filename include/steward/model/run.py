"""The model lifecycle as the DAG, the CLI and tests run it: train when due and gate,
score, create interventions, record their outcomes. Each step leaves an audit entry
(counts and versions only)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from steward import audit, stores
from steward.model import card, fairness, features, gate, registry, score
from steward.model import policy as model_policy
from steward.model.train import Decide, train_candidate

log = logging.getLogger(__name__)


def is_due(now: datetime | None = None) -> bool:
    """No model trained yet, or the last one is older than the retraining cadence."""
    policy = model_policy.load()
    now = now or datetime.now(UTC)
    with stores.connect("warehouse") as con:
        last = registry.last_trained_at(con)
    return last is None or now - last >= timedelta(days=policy.model["retrain_every_days"])


def train(*, force: bool = False, drop_unstable: bool = True, decide: Decide | None = None) -> dict:
    """Train a candidate when due (or forced), gate it, write its artifact and card, and
    record it in the registry. A refused candidate never replaces the current model."""
    policy = model_policy.load()
    started = datetime.now(UTC)
    if not force and not is_due(started):
        return {"trained": False, "reason": "not due", "current": current()}
    run_id = audit.new_run_id("model-train")
    with stores.connect("warehouse") as con:
        frame = features.labelled(con, policy)
        groups = fairness.load_groups(con, policy.fairness["attributes"])
        candidate = train_candidate(
            frame, groups, policy, drop_unstable=drop_unstable, decide=decide
        )
        verdict = gate.decide(candidate, policy)
        model = candidate.model
        _path, sha256 = registry.save_artifact(model)
        model_card = card.build(candidate, verdict, policy, model.version)
        card.write(model_card, registry.models_dir() / model.version)
        registry.record(
            con,
            model=model,
            candidate_info={
                "snapshot": candidate.snapshot,
                "train_presentations": candidate.train_presentations,
                "test_presentations": candidate.test_presentations,
                "dropped": candidate.dropped,
                "metrics": candidate.metrics,
                "fairness": candidate.fairness,
            },
            verdict=verdict.label,
            failures=[f.as_dict() for f in verdict.failures],
            sha256=sha256,
            policy_version=audit.policy_version(),
        )
        current_version = registry.current_version(con)
    for failure in verdict.failures:
        log.warning("model %s not promoted: %s", model.version, failure.message())
    summary = {
        "trained": True,
        "version": model.version,
        "verdict": verdict.label,
        "failures": [f.as_dict() for f in verdict.failures],
        "dropped_features": candidate.dropped,
        "roc_auc": round(candidate.metrics["roc_auc"], 4),
        "expected_calibration_error": round(candidate.metrics["expected_calibration_error"], 4),
        "current": current_version,
    }
    audit.record(
        run_id,
        "model_train",
        outcome=verdict.label,
        started_at=started,
        store="warehouse",
        table_name=f"{registry.SCHEMA}.model_registry",
        rows_in=candidate.rows["train"] + candidate.rows["test"],
        rows_affected=1,
        detail={k: summary[k] for k in ("version", "verdict", "failures", "current")},
    )
    return summary


def current() -> str | None:
    with stores.connect("warehouse", read_only=True) as con:
        return registry.current_version(con)


def score_students() -> dict:
    """Score the current week of every enrolment with the current model and record each
    prediction with its explanation."""
    policy = model_policy.load()
    started = datetime.now(UTC)
    run_id = audit.new_run_id("model-score")
    with stores.connect("warehouse") as con:
        registry.ensure(con)
        version = registry.current_version(con)
        if version is None:
            log.warning("no promoted model yet: nothing scored")
            return {"run_id": run_id, "model_version": None, "scored": 0}
        model = registry.load(con, version)
        frame = features.current_week(con, policy)
        written = score.write_predictions(con, score.predict(frame, model, policy), run_id)
    summary = {"run_id": run_id, "model_version": version, "scored": written}
    audit.record(
        run_id,
        "model_score",
        outcome="success",
        started_at=started,
        store="warehouse",
        table_name=f"{registry.SCHEMA}.predictions",
        rows_in=len(frame),
        rows_affected=written,
        detail=summary,
    )
    return summary


def create_interventions(run_id: str) -> dict:
    """Interventions for the flagged predictions of a scoring run, consenting students
    only; the others are counted as withheld."""
    policy = model_policy.load()
    started = datetime.now(UTC)
    with stores.connect("warehouse") as con:
        registry.ensure(con)
        counts = score.create_interventions(con, run_id, policy)
    audit.record(
        run_id,
        "create_interventions",
        outcome="success",
        started_at=started,
        store="warehouse",
        table_name=f"{registry.SCHEMA}.interventions",
        rows_in=counts["flagged"],
        rows_affected=counts["interventions_created"],
        detail=counts,
    )
    return counts


def record_intervention_outcomes() -> dict:
    started = datetime.now(UTC)
    run_id = audit.new_run_id("model-outcomes")
    with stores.connect("warehouse") as con:
        registry.ensure(con)
        counts = score.record_outcomes(con)
    audit.record(
        run_id,
        "intervention_outcomes",
        outcome="success",
        started_at=started,
        store="warehouse",
        table_name=f"{registry.SCHEMA}.interventions",
        rows_affected=counts["outcomes_recorded"],
        detail=counts,
    )
    return counts

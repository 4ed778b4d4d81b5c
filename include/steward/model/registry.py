"""Where models and their outputs are kept.

Artifacts (the fitted pipeline, the model card) are files under
`$STEWARD_HOME/models/<version>/`, beside the stores. The registry, predictions and
interventions are tables in the warehouse's `scoring` schema: they are keyed by
pseudonym like the marts they are computed from, written by Python (not dbt, which
rebuilds its own schemas and must not drop them) through the `warehouse_writer` pool.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import joblib

from steward import stores

# scikit-learn takes seconds to import: loading a model needs it, reading predictions not
if TYPE_CHECKING:
    from steward.model.train import RiskModel

SCHEMA = "scoring"

# Tables holding data about a student, with their subject key: for the retention sweep
# and subject requests, which must reach them like every other warehouse table.
SUBJECT_TABLES = {
    f"{SCHEMA}.predictions": "student_pseudonym",
    f"{SCHEMA}.interventions": "student_pseudonym",
}

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.model_registry (
    model_version varchar primary key,
    trained_at timestamptz not null,
    training_snapshot varchar not null,
    train_presentations json,
    test_presentations json,
    features json not null,
    dropped_features json,
    metrics json not null,
    fairness json not null,
    verdict varchar not null,
    failures json,
    status varchar not null,
    promoted_at timestamptz,
    artifact_sha256 varchar not null,
    policy_version varchar
);
create table if not exists {SCHEMA}.predictions (
    prediction_id varchar primary key,
    run_id varchar not null,
    student_pseudonym varchar not null,
    module_instance_id varchar not null,
    week_number integer not null,
    score double not null,
    risk_band varchar not null,
    model_version varchar not null,
    feature_hash varchar not null,
    features json not null,
    explanation json not null,
    scored_at timestamptz not null,
    unique (student_pseudonym, module_instance_id, week_number, model_version)
);
create table if not exists {SCHEMA}.interventions (
    intervention_id varchar primary key,
    student_pseudonym varchar not null,
    module_instance_id varchar not null,
    week_number integer not null,
    prediction_id varchar not null,
    model_version varchar not null,
    score double not null,
    risk_band varchar not null,
    created_at timestamptz not null,
    baseline_active_days double,
    followup_weeks integer not null,
    outcome_recorded_at timestamptz,
    followup_active_days double,
    is_engagement_recovered boolean,
    unique (student_pseudonym, module_instance_id, week_number)
);
"""


def models_dir() -> Path:
    path = stores.home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)


def save_artifact(model: RiskModel) -> tuple[Path, str]:
    folder = models_dir() / model.version
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.joblib"
    joblib.dump(model, path)
    return path, hashlib.sha256(path.read_bytes()).hexdigest()


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    model: RiskModel,
    candidate_info: dict,
    verdict: str,
    failures: list[dict],
    sha256: str,
    policy_version: str,
) -> None:
    """Add a trained model; a promoted one becomes current and the previous one retires."""
    ensure(con)
    now = datetime.now(UTC)
    promoted = verdict == "promoted"
    con.execute("begin")
    if promoted:
        con.execute(
            f"update {SCHEMA}.model_registry set status = 'retired' where status = 'current'"
        )
    con.execute(
        f"insert into {SCHEMA}.model_registry values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            model.version,
            model.trained_at,
            candidate_info["snapshot"],
            json.dumps(candidate_info["train_presentations"]),
            json.dumps(candidate_info["test_presentations"]),
            json.dumps(model.features),
            json.dumps(candidate_info["dropped"]),
            json.dumps(candidate_info["metrics"], default=str),
            json.dumps(candidate_info["fairness"], default=str),
            verdict,
            json.dumps(failures),
            "current" if promoted else "refused",
            now if promoted else None,
            sha256,
            policy_version,
        ],
    )
    con.execute("commit")


def current_version(con: duckdb.DuckDBPyConnection) -> str | None:
    ensure_read = con.execute(
        "select count(*) from information_schema.tables "
        f"where table_schema = '{SCHEMA}' and table_name = 'model_registry'"
    ).fetchone()[0]
    if not ensure_read:
        return None
    row = con.execute(
        f"select model_version from {SCHEMA}.model_registry where status = 'current'"
    ).fetchone()
    return row[0] if row else None


def last_trained_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    ensure(con)
    return con.execute(f"select max(trained_at) from {SCHEMA}.model_registry").fetchone()[0]


def load(con: duckdb.DuckDBPyConnection, version: str) -> RiskModel:
    """The model of a registered version, after checking its file is the one registered."""
    row = con.execute(
        f"select artifact_sha256 from {SCHEMA}.model_registry where model_version = ?", [version]
    ).fetchone()
    if row is None:
        raise ValueError(f"model version {version!r} is not in {SCHEMA}.model_registry")
    path = models_dir() / version / "model.joblib"
    if not path.exists():
        raise FileNotFoundError(f"{path}: artifact of model {version} is missing")
    if hashlib.sha256(path.read_bytes()).hexdigest() != row[0]:
        raise ValueError(
            f"{path}: file does not match the sha256 registered for model {version}; "
            "it was changed after training. Retrain rather than score with it."
        )
    return joblib.load(path)

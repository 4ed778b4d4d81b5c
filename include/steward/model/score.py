"""Scoring enrolled students, recording predictions with explanations, creating
interventions for consenting students only, and recording whether engagement recovered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from steward.model import features as feats
from steward.model.policy import ModelPolicy
from steward.model.registry import SCHEMA

# scikit-learn takes seconds to import: loading a model needs it, reading predictions not
if TYPE_CHECKING:
    from steward.model.train import RiskModel


def risk_band(scores: np.ndarray, policy: ModelPolicy) -> np.ndarray:
    bands = policy.risk_bands
    out = np.full(len(scores), bands[-1].name, dtype=object)
    for band in reversed(bands[:-1]):
        out[scores < band.below] = band.name
    return out


@dataclass(frozen=True)
class Predictions:
    """Scored rows: keys, score, risk band, model version and feature hash, with the feature
    vector (columns v0.., in the order of `features`) and the top contributing features
    (n0.. their indices into `features`, counted from 1; x0.. their values; c0.. their
    contributions). `write_predictions` records the vector and the top features as JSON."""

    rows: pd.DataFrame
    features: list[str]
    top_k: int

    def __len__(self) -> int:
        return len(self.rows)


def predict(frame: pd.DataFrame, model: RiskModel, policy: ModelPolicy) -> Predictions:
    """One prediction per feature row."""
    frame = model.prepare(frame)
    x = frame[model.features].to_numpy(dtype=float)
    out = frame[["student_pseudonym", "module_instance_id", "week_number"]].reset_index(drop=True)
    out["score"] = model.score(x) if len(frame) else np.array([])
    out["risk_band"] = risk_band(out["score"].to_numpy(), policy)
    out["model_version"] = model.version
    out["feature_hash"] = feats.feature_hashes(model.features, x)
    columns = {f"v{i}": x[:, i] for i in range(len(model.features))}
    top_k = min(policy.top_k, len(model.features)) if len(frame) else 0
    if top_k:
        order, amounts = model.top_contributions(x, top_k)
        for k in range(top_k):
            columns[f"n{k}"] = order[:, k] + 1  # DuckDB lists count from 1
            columns[f"x{k}"] = np.take_along_axis(x, order[:, k : k + 1], axis=1)[:, 0]
            columns[f"c{k}"] = amounts[:, k]
    rows = pd.concat([out, pd.DataFrame(columns)], axis=1)
    return Predictions(rows, list(model.features), top_k)


def _json_columns(predictions: Predictions) -> tuple[str, str]:
    """SQL over `new_predictions as n`: the feature vector as a JSON object (name -> value,
    null when missing) and the top features as a JSON list of {feature, value,
    contribution}. DuckDB writes them as it inserts: JSON built per row in Python cost
    seconds at 50,000 students. Its doubles round-trip exactly, so a recorded vector
    hashes as it did at scoring."""
    names = predictions.features
    vector = ", ".join(f"{_literal(name)}: n.v{i}" for i, name in enumerate(names))
    listed = f"[{', '.join(map(_literal, names))}]"
    top = ", ".join(
        f"{{'feature': {listed}[n.n{k}], 'value': n.x{k}, 'contribution': n.c{k}}}"
        for k in range(predictions.top_k)
    )
    explanation = f"to_json([{top}]::struct(feature varchar, value double, contribution double)[])"
    return f"to_json({{{vector}}})", explanation


def _literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def write_predictions(con: duckdb.DuckDBPyConnection, predictions: Predictions, run_id: str) -> int:
    """Record predictions; scoring the same week again with the same model replaces them."""
    vector, explanation = _json_columns(predictions)
    con.register("new_predictions", predictions.rows)
    try:
        con.execute("begin")
        con.execute(
            f"""
            delete from {SCHEMA}.predictions as p using new_predictions as n
            where p.student_pseudonym = n.student_pseudonym
              and p.module_instance_id = n.module_instance_id
              and p.week_number = n.week_number and p.model_version = n.model_version
              and p.prediction_id not in (select prediction_id from {SCHEMA}.interventions)
            """
        )
        con.execute(
            f"""
            insert into {SCHEMA}.predictions
            select replace(uuid()::varchar, '-', ''), ?, n.student_pseudonym,
                   n.module_instance_id, n.week_number, n.score, n.risk_band,
                   n.model_version, n.feature_hash, {vector}, {explanation}, ?
            from new_predictions as n
            anti join {SCHEMA}.predictions as p
              on p.student_pseudonym = n.student_pseudonym
             and p.module_instance_id = n.module_instance_id
             and p.week_number = n.week_number and p.model_version = n.model_version
            """,
            [run_id, datetime.now(UTC)],
        )
        con.execute("commit")
    finally:
        con.unregister("new_predictions")
    return len(predictions)


def create_interventions(
    con: duckdb.DuckDBPyConnection, run_id: str, policy: ModelPolicy
) -> dict[str, int]:
    """An intervention for each flagged prediction of this run whose student is in the
    consented cohort (`marts.fct_intervention_cohort`) and has no intervention on the
    module within the follow-up window. Flagged students outside the cohort are withheld:
    counted, never contacted."""
    bands = sorted(policy.flag_bands)
    placeholders = ", ".join("?" for _ in bands)
    flagged = f"""
        select p.* from {SCHEMA}.predictions as p
        where p.run_id = ? and p.risk_band in ({placeholders})
    """
    withheld = con.execute(
        f"""
        select count(*) from ({flagged}) as f
        where not exists (
            select 1 from {feats.COHORT_TABLE} as c
            where c.student_pseudonym = f.student_pseudonym
              and c.module_instance_id = f.module_instance_id
              and c.week_number = f.week_number
        )
        """,
        [run_id, *bands],
    ).fetchone()[0]
    before = con.execute(f"select count(*) from {SCHEMA}.interventions").fetchone()[0]
    con.execute(
        f"""
        insert into {SCHEMA}.interventions
        select md5(f.prediction_id || 'intervention'), f.student_pseudonym,
               f.module_instance_id, f.week_number, f.prediction_id, f.model_version,
               f.score, f.risk_band, now(),
               (select avg(w.active_days) from {feats.FEATURES_TABLE} as w
                where w.student_pseudonym = f.student_pseudonym
                  and w.module_instance_id = f.module_instance_id
                  and w.week_number between f.week_number - 1 and f.week_number),
               ?, null, null, null
        from ({flagged}) as f
        inner join {feats.COHORT_TABLE} as c
            on c.student_pseudonym = f.student_pseudonym
           and c.module_instance_id = f.module_instance_id
           and c.week_number = f.week_number
        where not exists (
            select 1 from {SCHEMA}.interventions as i
            where i.student_pseudonym = f.student_pseudonym
              and i.module_instance_id = f.module_instance_id
              and i.week_number > f.week_number - ?
        )
        """,
        [policy.followup_weeks, run_id, *bands, policy.followup_weeks],
    )
    after = con.execute(f"select count(*) from {SCHEMA}.interventions").fetchone()[0]
    flagged_count = con.execute(f"select count(*) from ({flagged})", [run_id, *bands]).fetchone()[0]
    return {
        "flagged": int(flagged_count),
        "interventions_created": int(after - before),
        "withheld_no_consent": int(withheld),
    }


def record_outcomes(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """For interventions whose follow-up weeks have passed on their presentation: mean
    weekly active days in those weeks (a week without a row, after a withdrawal, counts as
    zero) against the baseline. Recovered when the follow-up mean is above the baseline."""
    pending = con.execute(
        f"""
        with progress as (
            select module_instance_id, max(week_number) as latest_week
            from {feats.FEATURES_TABLE} group by module_instance_id
        ),
        due as (
            select i.intervention_id, i.student_pseudonym, i.module_instance_id,
                   i.week_number, i.followup_weeks, i.baseline_active_days
            from {SCHEMA}.interventions as i
            inner join progress as p on i.module_instance_id = p.module_instance_id
            where i.outcome_recorded_at is null
              and p.latest_week >= i.week_number + i.followup_weeks
        ),
        followup as (
            select d.intervention_id,
                   coalesce(sum(w.active_days), 0) / any_value(d.followup_weeks) as active_days
            from due as d
            left join {feats.FEATURES_TABLE} as w
              on w.student_pseudonym = d.student_pseudonym
             and w.module_instance_id = d.module_instance_id
             and w.week_number between d.week_number + 1 and d.week_number + d.followup_weeks
            group by d.intervention_id
        )
        select * from followup
        """
    ).df()
    if pending.empty:
        return {"outcomes_recorded": 0, "engagement_recovered": 0}
    con.register("followups", pending)
    try:
        con.execute(
            f"""
            update {SCHEMA}.interventions as i
            set outcome_recorded_at = now(),
                followup_active_days = f.active_days,
                is_engagement_recovered = f.active_days > coalesce(i.baseline_active_days, 0)
            from followups as f
            where i.intervention_id = f.intervention_id
            """
        )
        recovered = con.execute(
            f"select count(*) from {SCHEMA}.interventions "
            "where is_engagement_recovered "
            "and intervention_id in (select intervention_id from followups)"
        ).fetchall()[0][0]
    finally:
        con.unregister("followups")
    return {"outcomes_recorded": len(pending), "engagement_recovered": int(recovered)}


def student_explanations(con: duckdb.DuckDBPyConnection, pseudonym: str) -> list[dict]:
    """Every prediction about one student with its explanation, for the access export."""
    rows = con.execute(
        f"""
        select module_instance_id, week_number, score, risk_band, model_version,
               explanation, scored_at
        from {SCHEMA}.predictions where student_pseudonym = ?
        order by scored_at, module_instance_id
        """,
        [pseudonym],
    ).fetchall()
    return [
        {
            "module_instance_id": m,
            "week_number": w,
            "score": s,
            "risk_band": b,
            "model_version": v,
            "top_features": json.loads(e),
            "scored_at": t.isoformat(),
        }
        for m, w, s, b, v, e, t in rows
    ]

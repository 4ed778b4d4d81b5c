"""Training with temporal validation: fit on earlier presentations, validate on the latest
ended one, after dropping features whose association with the outcome is unstable.

The estimator is a scikit-learn pipeline (log of skewed counts, median imputation with
missingness indicators, standardisation, logistic regression): calibrated by construction
and explainable per student as coefficient x standardised value. Besides the mart's
columns it reads the module's fail-or-withdraw rate in the training presentations
(`encoding`), which the model carries to scoring.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from steward.model import encoding, fairness, stability, validate
from steward.model.features import snapshot_id
from steward.model.policy import ModelPolicy

MISSING_PREFIX = "missingindicator_"

# Decides who is flagged from scores (and, only in tests of the gate, from groups).
Decide = Callable[[np.ndarray, pd.DataFrame], np.ndarray]


@dataclass
class RiskModel:
    """A fitted pipeline, the ordered features it reads and the module rates it learnt
    (None when the policy asks for none)."""

    version: str
    features: list[str]
    pipeline: Pipeline
    trained_at: datetime
    module_rates: encoding.ModuleRates | None = None

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of the feature mart with the features the model derives added."""
        if self.module_rates is None:
            return frame
        return frame.assign(**{self.module_rates.feature: self.module_rates.apply(frame)})

    def score(self, x: np.ndarray) -> np.ndarray:
        frame = pd.DataFrame(x, columns=self.features)
        return self.pipeline.predict_proba(frame)[:, 1]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per row and feature, coefficient x standardised value (summed over a feature's
        value and its missingness indicator): how far each feature moved the log-odds
        away from the average student's."""
        frame = pd.DataFrame(x, columns=self.features)
        transformed = self.pipeline[:-1].transform(frame)
        terms = transformed * self.pipeline[-1].coef_[0]
        names = self.pipeline[:-1].get_feature_names_out()
        out = np.zeros((len(frame), len(self.features)))
        index = {name: i for i, name in enumerate(self.features)}
        for column, name in enumerate(names):
            base = name.split("__", 1)[-1].removeprefix(MISSING_PREFIX)
            out[:, index[base]] += terms[:, column]
        return out

    def explain(self, x: np.ndarray, top_k: int) -> list[list[dict]]:
        """The top-k features by absolute contribution, per row."""
        contributions = self.contributions(x)
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top_k]
        names = np.array(self.features, dtype=object)[order].tolist()
        values = np.take_along_axis(x, order, axis=1)
        values = np.where(np.isnan(values), None, values).tolist()
        amounts = np.round(np.take_along_axis(contributions, order, axis=1), 4).tolist()
        return [
            [
                {"feature": n, "value": v, "contribution": c}
                for n, v, c in zip(row_names, row_values, row_amounts, strict=True)
            ]
            for row_names, row_values, row_amounts in zip(names, values, amounts, strict=True)
        ]


def build_pipeline(features: list[str], log_features: frozenset[str], c: float) -> Pipeline:
    logged = [f for f in features if f in log_features]
    plain = [f for f in features if f not in log_features]
    prepare = ColumnTransformer(
        [
            ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one"), logged),
            ("plain", "passthrough", plain),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline(
        [
            ("prepare", prepare),
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
            ("classify", LogisticRegression(C=c, solver="newton-cholesky", max_iter=200)),
        ]
    )


@dataclass
class Candidate:
    """A trained model with everything the gate and the model card need."""

    model: RiskModel
    train_presentations: list[int]
    test_presentations: list[int]
    snapshot: str
    rows: dict[str, int]
    features: list[str]
    dropped: dict[str, str]
    stability: list[dict]
    metrics: dict
    fairness: dict
    unstable_used: list[str] = field(default_factory=list)


def temporal_split(frame: pd.DataFrame) -> tuple[list[int], list[int]]:
    years = sorted(int(y) for y in frame["academic_year"].unique())
    if len(years) < 2:
        raise ValueError(
            f"marts.fct_student_week_features: labelled rows come from {years or 'no'} "
            "presentation year(s); temporal validation needs at least two ended years. "
            "Load earlier presentations, or wait until the running one ends."
        )
    return years[:-1], years[-1:]


def new_version(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def train_candidate(
    frame: pd.DataFrame,
    groups: pd.DataFrame,
    policy: ModelPolicy,
    *,
    drop_unstable: bool = True,
    decide: Decide | None = None,
) -> Candidate:
    """Check stability, fit on earlier presentations, validate on the latest ended one,
    and assess fairness of the flag decision on the validation rows."""
    train_years, test_years = temporal_split(frame)
    is_train = frame["academic_year"].isin(train_years)
    candidates = list(policy.candidate_features)
    module_rates = None
    if policy.module_encoding:
        rules = policy.module_encoding
        module_rates = encoding.fit(frame[is_train], rules)
        derived = module_rates.apply(frame)
        derived[is_train.to_numpy()] = encoding.cross_fitted(frame[is_train], rules)
        frame = frame.assign(**{module_rates.feature: derived})
        candidates.append(module_rates.feature)
    dropped = {
        f: "no values in the training data" for f in candidates if frame[f].notna().sum() == 0
    }
    usable = [f for f in candidates if f not in dropped]
    findings = stability.check(frame, usable, policy.stability)
    unstable = stability.unstable_features(findings)
    if drop_unstable:
        for feature in unstable:
            worst = max(
                (f for f in findings if f.feature == feature and f.unstable),
                key=lambda f: f.shift,
            )
            dropped[feature] = (
                f"unstable association with the outcome across {worst.grouping}: "
                f"univariate AUC moves by {worst.shift:.2f} (z = {worst.z:.1f})"
            )
    features = [f for f in candidates if f not in dropped]

    train = frame[is_train]
    test = frame[frame["academic_year"].isin(test_years)]
    now = datetime.now(UTC)
    pipeline = build_pipeline(
        features, policy.log_features, float(policy.model["regularisation_c"])
    )
    pipeline.fit(train[features], train["label"].to_numpy())
    used_rates = module_rates if module_rates and module_rates.feature in features else None
    model = RiskModel(new_version(now), features, pipeline, now, used_rates)

    scores = model.score(test[features].to_numpy())
    y_true = test["label"].to_numpy()
    measured = validate.metrics(y_true, scores, int(policy.promotion["calibration_bins"]))
    measured["roc_auc_by_week"] = _auc_by_week(test, scores)
    decide = decide or (lambda s, _g: (s >= policy.flag_threshold).astype(int))
    test_groups = test[["student_pseudonym"]].merge(groups, on="student_pseudonym", how="left")
    flagged = pd.Series(decide(scores, test_groups), index=test.index)
    # Fairness is judged per enrolment, as students meet the decision: flagged in any
    # week of the window, against the outcome of that enrolment.
    decisions = (
        test.assign(flagged=flagged)
        .groupby(["student_pseudonym", "module_instance_id"], as_index=False)
        .agg(label=("label", "max"), flagged=("flagged", "max"))
    )
    fair = fairness.assess(
        decisions["label"].to_numpy(),
        decisions["flagged"].to_numpy(),
        decisions["student_pseudonym"],
        groups,
        policy.fairness,
    )
    return Candidate(
        model=model,
        train_presentations=train_years,
        test_presentations=test_years,
        snapshot=snapshot_id(
            frame, ["student_week_key", *policy.candidate_features, "label", "academic_year"]
        ),
        rows={"train": len(train), "test": len(test)},
        features=features,
        dropped=dropped,
        stability=[f.as_dict() for f in findings],
        metrics=measured,
        fairness=fair,
        unstable_used=[f for f in unstable if f in features],
    )


def _auc_by_week(test: pd.DataFrame, scores: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    out = {}
    for week, index in test.groupby("week_number").indices.items():
        labels = test["label"].to_numpy()[index]
        if len(np.unique(labels)) == 2:
            out[str(int(week))] = round(float(roc_auc_score(labels, scores[index])), 4)
    return out

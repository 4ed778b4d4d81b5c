"""Training with temporal validation: fit on earlier presentations, validate on the latest
ended one, after dropping features whose association with the outcome is unstable.

The estimator is a scikit-learn pipeline (`Design`: log of skewed counts, one indicator
per week of the window, mean imputation with missingness indicators, standardisation;
then logistic regression): calibrated by construction and explainable per student as
coefficient x standardised value. Besides the mart's columns it reads the module's fail-or-withdraw
rate in the training presentations (`encoding`) and the student's engagement across
their modules that week (`context`), both derived by the model at scoring too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from steward.model import encoding, fairness, stability, validate
from steward.model.context import StudentContext
from steward.model.features import snapshot_id
from steward.model.policy import ModelPolicy

WEEK = "week_number"
# BLAS threads for fitting and scoring. Airflow runs other tasks on the same cores, and
# OpenBLAS threads that spin-wait for a busy core made one Newton step on 3.5 million rows
# take 11 s instead of 0.2 s; one thread per task is faster on a shared machine.
BLAS_THREADS = 1
# Rows of the design matrix written at a time (a block of them stays in cache).
ROWS_PER_BLOCK = 8192

# Decides who is flagged from scores (and, only in tests of the gate, from groups).
Decide = Callable[[np.ndarray, pd.DataFrame], np.ndarray]


@dataclass
class RiskModel:
    """A fitted pipeline, the ordered features it reads, and what it derives from the mart's
    rows before reading them: the module rates it learnt and the student context (each
    None when the policy asks for none)."""

    version: str
    features: list[str]
    pipeline: Pipeline
    trained_at: datetime
    module_rates: encoding.ModuleRates | None = None
    context: StudentContext | None = None

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of the feature mart with the features the model derives added."""
        derived = self.context.apply(frame) if self.context else {}
        if self.module_rates is not None:
            derived[self.module_rates.feature] = self.module_rates.apply(frame)
        return frame.assign(**derived) if derived else frame

    def score(self, x: np.ndarray) -> np.ndarray:
        with threadpool_limits(BLAS_THREADS, user_api="blas"):
            return self.pipeline.predict_proba(x)[:, 1]

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per row and feature, coefficient x standardised value (summed over the columns
        the pipeline makes of a feature: its value, its missingness indicator, its week
        indicators): how far each feature moved the log-odds away from the average
        student's."""
        with threadpool_limits(BLAS_THREADS, user_api="blas"):
            terms = self.pipeline[:-1].transform(x) * self.pipeline[-1].coef_[0]
        out = np.zeros((len(x), len(self.features)))
        for column, source in enumerate(self.pipeline[0].sources_):
            out[:, source] += terms[:, column]
        return out

    def top_contributions(self, x: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
        """Per row, the indices of the top-k features by absolute contribution (largest
        first) and their contributions rounded to 4 decimals."""
        contributions = self.contributions(x)
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top_k]
        return order, np.round(np.take_along_axis(contributions, order, axis=1), 4)


class Design(TransformerMixin, BaseEstimator):
    """The matrix the classifier reads, made in one output array: log(1 + x) of the
    `logged` columns, one indicator per week after the first for the `week` column
    (clipped to `weeks`), a missingness indicator for every column that had missing values
    in fitting, then standardisation, a missing value becoming the fitted mean (any
    constant would do: its indicator absorbs it). ColumnTransformer, SimpleImputer and
    StandardScaler did the same in six copies of the matrix, which cost more than the fit
    at 50,000 students.

    `sources_` gives, for each output column, the input column it was made from."""

    def __init__(self, logged=(), week=None, weeks=None):
        self.logged = logged
        self.week = week
        self.weeks = weeks

    def _columns(self, width: int) -> list[tuple[int, float | None]]:
        """(input column, week or None) per output column before missingness indicators."""
        out = []
        for j in range(width):
            if j == self.week:
                first, last = self.weeks
                out += [(j, float(w)) for w in range(first + 1, last + 1)]
            else:
                out.append((j, None))
        return out

    def _fill(
        self, x, indicators: list[int] | None = None, standardise: bool = False
    ) -> tuple[np.ndarray, list[int]]:
        """The output (standardised when asked), written a block of rows at a time: a
        block stays in cache while its columns are written."""
        x = np.asarray(x, dtype="float64")
        columns = self._columns(x.shape[1])
        if indicators is None:  # fitting: every column with a missing value gets one
            indicators = [k for k, (j, _w) in enumerate(columns) if np.isnan(x[:, j]).any()]
        out = np.empty((len(x), len(columns) + len(indicators)), dtype="float64")
        for start in range(0, len(x), ROWS_PER_BLOCK):
            block, rows = out[start : start + ROWS_PER_BLOCK], x[start : start + ROWS_PER_BLOCK]
            for k, (j, week) in enumerate(columns):
                if week is not None:
                    block[:, k] = np.clip(rows[:, j], *self.weeks) == week
                elif j in self.logged:
                    np.log1p(rows[:, j], out=block[:, k])
                else:
                    block[:, k] = rows[:, j]
            for i, k in enumerate(indicators):
                block[:, len(columns) + i] = np.isnan(block[:, k])
            if standardise:
                self._standardise(block)
        return out, indicators

    def fit(self, x, y=None):
        self.fit_transform(x)
        return self

    def fit_transform(self, x, y=None):
        out, self.indicators_ = self._fill(x)
        columns = self._columns(np.shape(x)[1])
        self.sources_ = np.array([j for j, _w in columns + [columns[k] for k in self.indicators_]])
        center, scale = out.mean(axis=0), out.std(axis=0)
        for k in self.indicators_:
            observed = out[:, k][~np.isnan(out[:, k])]
            center[k], scale[k] = observed.mean(), observed.std()
        self.center_ = center
        self.scale_ = np.where(scale > 0, scale, 1.0)
        for start in range(0, len(out), ROWS_PER_BLOCK):
            self._standardise(out[start : start + ROWS_PER_BLOCK])
        return out

    def transform(self, x):
        return self._fill(x, self.indicators_, standardise=True)[0]

    def _standardise(self, block: np.ndarray) -> None:
        block -= self.center_
        block /= self.scale_
        block[np.isnan(block)] = 0.0


def build_pipeline(
    features: list[str],
    log_features: frozenset[str],
    c: float,
    weeks: tuple[int, int] | None = None,
) -> Pipeline:
    """The estimator over a float matrix whose columns are `features`, in that order. With
    `weeks` (first, last), `week_number` enters as one indicator per week, a week after the
    window counting as its last."""
    design = Design(
        logged=tuple(i for i, f in enumerate(features) if f in log_features),
        week=features.index(WEEK) if weeks and WEEK in features else None,
        weeks=weeks,
    )
    return Pipeline(
        [
            ("design", design),
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
    is_train = frame["academic_year"].isin(train_years).to_numpy()
    is_test = frame["academic_year"].isin(test_years).to_numpy()
    candidates = list(policy.candidate_features)
    derived = {}
    context = policy.student_context
    if context:
        derived.update(context.apply(frame))
        candidates += context.features
    module_rates = None
    if policy.module_encoding:
        rules = policy.module_encoding
        train_rows = frame.loc[is_train, [*encoding.ENROLMENT, rules["key"], "label"]]
        module_rates = encoding.fit(train_rows, rules)
        rates = module_rates.apply(frame)
        rates[is_train] = encoding.cross_fitted(train_rows, rules)
        derived[module_rates.feature] = rates
        candidates.append(module_rates.feature)
    frame = frame.assign(**derived)
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

    # One float matrix, split by rows: selecting rows of the whole frame (string keys
    # included) costs more than the fit at 50,000 students.
    x = frame[features].to_numpy(dtype="float64")
    labels = frame["label"].to_numpy()
    now = datetime.now(UTC)
    pipeline = build_pipeline(
        features,
        policy.log_features,
        float(policy.model["regularisation_c"]),
        (policy.first_week, policy.last_week) if policy.week_indicators else None,
    )
    with threadpool_limits(BLAS_THREADS, user_api="blas"):
        pipeline.fit(x[is_train], labels[is_train])
    used_rates = module_rates if module_rates and module_rates.feature in features else None
    used_context = context if context and set(context.features) & set(features) else None
    model = RiskModel(new_version(now), features, pipeline, now, used_rates, used_context)

    test = frame.loc[is_test, ["student_pseudonym", "module_instance_id", WEEK, "label"]]
    scores = model.score(x[is_test])
    del x
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
        rows={"train": int(is_train.sum()), "test": int(is_test.sum())},
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

"""Spurious correlations: features whose association with the outcome does not hold
across presentations (academic years) or modules.

For each feature and group the univariate ROC AUC against the label is computed with its
Hanley-McNeil standard error (on distinct enrolments, since the weekly rows of one
enrolment are not independent). A feature is unstable when, within a grouping, the AUCs
of two groups differ by more than the policy's `max_auc_shift` and that difference is
significant. `min_z` is the bar for one comparison; comparing the highest of k groups
with the lowest is in effect one of k(k-1)/2 comparisons, so the bar rises to keep the
same chance of a false alarm (Bonferroni): about 3.0 for two years, 4.5 for 30 modules.
Without that, a steady predictor compared across dozens of modules is flagged by chance
spread alone. A feature that only predicts in one year is learnt from an accident of
that year and must not reach a model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd

GROUPINGS = ("academic_year", "module_id")
# A group's AUC is estimated on at most this many of its weekly rows (a fixed random
# sample): the estimate's error is far below any shift worth flagging, and the cost of
# ranking stays flat as the institution grows.
MAX_ROWS_PER_GROUP = 20_000


@dataclass(frozen=True)
class StabilityFinding:
    feature: str
    grouping: str
    group_auc: dict[str, float]
    shift: float
    z: float
    z_required: float
    unstable: bool

    def as_dict(self) -> dict:
        return {
            "feature": self.feature,
            "grouping": self.grouping,
            "group_auc": {k: round(v, 4) for k, v in self.group_auc.items()},
            "shift": round(self.shift, 4),
            "z": round(self.z, 2),
            "z_required": round(self.z_required, 2),
            "unstable": self.unstable,
        }


def rank_auc(labels: np.ndarray, values: np.ndarray) -> float:
    """ROC AUC from mid-ranks (Mann-Whitney U): the same value as sklearn's, without its
    per-call validation, which dominates when thousands of small groups are checked."""
    ranks = pd.Series(values).rank(method="average").to_numpy()
    positive = labels == 1
    n1 = int(positive.sum())
    n0 = len(labels) - n1
    return float((ranks[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _auc_and_se(labels: np.ndarray, values: np.ndarray, positives: int, negatives: int):
    auc = rank_auc(labels, values)
    q1 = auc / (2 - auc)
    q2 = 2 * auc**2 / (1 + auc)
    variance = (
        auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    ) / (positives * negatives)
    return auc, math.sqrt(max(variance, 1e-12))


def required_z(min_z: float, groups: int) -> float:
    """The z a max-vs-min difference over `groups` groups must exceed: `min_z`'s one-sided
    tail probability shared among the group pairs."""
    normal = NormalDist()
    pairs = groups * (groups - 1) / 2
    return normal.inv_cdf(1 - (1 - normal.cdf(min_z)) / max(pairs, 1))


def check(frame: pd.DataFrame, features: list[str], rules: dict) -> list[StabilityFinding]:
    """One finding per feature and grouping where at least two groups could be compared."""
    findings = []
    enrolments = frame.drop_duplicates(["student_pseudonym", "module_instance_id"])
    labels = frame["label"].to_numpy()
    for grouping in GROUPINGS:
        # Standard errors count enrolments, not weekly rows (see the module docstring).
        counts = enrolments.groupby(grouping)["label"].agg(["sum", "size"])
        rng = np.random.default_rng(0)
        members = {
            group: np.sort(rng.choice(index, MAX_ROWS_PER_GROUP, replace=False))
            if len(index) > MAX_ROWS_PER_GROUP
            else index
            for group, index in frame.groupby(grouping, sort=True).indices.items()
        }
        for feature in features:
            values = frame[feature].to_numpy()
            stats: dict[str, tuple[float, float]] = {}
            for group, index in members.items():
                index = index[~np.isnan(values[index])]
                group_labels = labels[index]
                positives = int(counts.loc[group, "sum"])
                negatives = int(counts.loc[group, "size"]) - positives
                if (
                    positives + negatives < rules["min_group_enrolments"]
                    or min(positives, negatives) < 2
                    or group_labels.min() == group_labels.max()
                    or np.unique(values[index]).size < 2
                ):
                    continue
                stats[str(group)] = _auc_and_se(group_labels, values[index], positives, negatives)
            if len(stats) < 2:
                continue
            high = max(stats, key=lambda g: stats[g][0])
            low = min(stats, key=lambda g: stats[g][0])
            shift = stats[high][0] - stats[low][0]
            z = shift / math.hypot(stats[high][1], stats[low][1])
            bar = required_z(rules["min_z"], len(stats))
            findings.append(
                StabilityFinding(
                    feature=feature,
                    grouping=grouping,
                    group_auc={g: a for g, (a, _se) in stats.items()},
                    shift=shift,
                    z=z,
                    z_required=bar,
                    unstable=shift > rules["max_auc_shift"] and z > bar,
                )
            )
    return findings


def unstable_features(findings: list[StabilityFinding]) -> list[str]:
    return sorted({f.feature for f in findings if f.unstable})

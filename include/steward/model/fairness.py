"""Fairness monitoring on the restricted special-category attributes (never features).

For each attribute in the policy, students are grouped (a hierarchy level or a mapping,
as the policy says) and fairlearn's `MetricFrame` compares true positive rate, false
positive rate and selection rate of the flag decision across groups.

Groups with fewer positives or students than the policy's minimums are listed but not
assessed. Among the assessed groups, the gated gap is the largest difference in true
positive rate between two groups that sampling noise does not explain: its z (the
difference over its standard error) must exceed `min_z`, raised for the number of group
pairs compared (Bonferroni, as in `stability`). Standard errors count the students with a
positive outcome, not enrolments, since one student's enrolments are not independent. So
a small group's noisy rate is reported but cannot refuse a model alone, while a large
gap between groups big enough to measure it does.
"""

from __future__ import annotations

import csv
import itertools
import math

import duckdb
import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame

from steward.model.stability import required_z
from steward.policy import POLICY_DIR

RESTRICTED_TABLE = "restricted.restricted_students"
UNKNOWN = "not recorded"


# Rates over weighted cells: MetricFrame receives one row per (group, outcome, decision)
# with its count as the sample weight, so the same rates cost the same for ten students or
# a million (fairlearn otherwise handles every sample in Python).
def true_positive_rate(y_true: np.ndarray, y_pred: np.ndarray, sample_weight) -> float:
    positives = sample_weight * (y_true == 1)
    return float((positives * y_pred).sum() / positives.sum()) if positives.sum() else np.nan


def false_positive_rate(y_true: np.ndarray, y_pred: np.ndarray, sample_weight) -> float:
    negatives = sample_weight * (y_true == 0)
    return float((negatives * y_pred).sum() / negatives.sum()) if negatives.sum() else np.nan


def selection_rate(y_true: np.ndarray, y_pred: np.ndarray, sample_weight) -> float:
    return float((sample_weight * y_pred).sum() / sample_weight.sum())


def _hierarchy(file: str, level: int) -> dict[str, str]:
    with (POLICY_DIR / "hierarchies" / file).open(encoding="utf-8") as handle:
        return {row[0]: row[level] for row in csv.reader(handle, delimiter=";") if row}


def group_labels(raw: pd.Series, rule: dict) -> pd.Series:
    """Raw attribute values as the policy's comparison groups."""
    if "hierarchy" in rule:
        mapping = _hierarchy(rule["hierarchy"], int(rule["level"]))
        return raw.map(lambda v: mapping.get(v, UNKNOWN) if isinstance(v, str) else UNKNOWN)
    if "map" in rule:
        mapping = {str(k): v for k, v in rule["map"].items()}
        return raw.map(
            lambda v: mapping.get(v, rule.get("other", v)) if isinstance(v, str) else UNKNOWN
        )
    return raw.fillna(UNKNOWN).astype(str)


def load_groups(con: duckdb.DuckDBPyConnection, attributes: dict[str, dict]) -> pd.DataFrame:
    """Student pseudonym -> comparison group per attribute, read from the restricted
    schema for fairness monitoring only."""
    columns = ", ".join(attributes)
    raw = con.execute(f"select student_pseudonym, {columns} from {RESTRICTED_TABLE}").df()
    groups = pd.DataFrame({"student_pseudonym": raw["student_pseudonym"]})
    for attribute, rule in attributes.items():
        groups[attribute] = group_labels(raw[attribute], rule or {})
    return groups


def assess(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    students: pd.Series,
    groups: pd.DataFrame,
    rules: dict,
) -> dict:
    """Per attribute: the group table, the TPR, FPR and selection-rate gaps among groups
    with at least `min_group_positives` positives and `min_group_students` students (the
    assessed ones), and the largest significant TPR gap among them (the gated one)."""
    frame = pd.DataFrame(
        {"student_pseudonym": students.to_numpy(), "y_true": y_true, "y_pred": y_pred}
    ).merge(groups, on="student_pseudonym", how="left")
    result = {}
    for attribute in rules["attributes"]:
        sensitive = frame[attribute].fillna(UNKNOWN)
        cells = (
            frame.assign(group=sensitive)
            .groupby(["group", "y_true", "y_pred"], as_index=False)
            .size()
        )
        weights = {"sample_weight": cells["size"].to_numpy(dtype=float)}
        metric_frame = MetricFrame(
            metrics={
                "true_positive_rate": true_positive_rate,
                "false_positive_rate": false_positive_rate,
                "selection_rate": selection_rate,
            },
            y_true=cells["y_true"].to_numpy(),
            y_pred=cells["y_pred"].to_numpy(),
            sensitive_features=cells["group"],
            sample_params={
                "true_positive_rate": weights,
                "false_positive_rate": weights,
                "selection_rate": weights,
            },
        )
        by_group = metric_frame.by_group
        sizes = (
            frame.assign(group=sensitive)
            .groupby("group")
            .agg(
                rows=("y_true", "size"),
                positives=("y_true", "sum"),
                students=("student_pseudonym", "nunique"),
            )
        )
        positive = frame["y_true"] == 1
        sizes["positive_students"] = (
            frame[positive]
            .groupby(sensitive[positive])["student_pseudonym"]
            .nunique()
            .reindex(sizes.index, fill_value=0)
        )
        table = []
        for group, row in by_group.iterrows():
            size = sizes.loc[group]
            judged = bool(
                size["positives"] >= rules["min_group_positives"]
                and size["students"] >= rules["min_group_students"]
            )
            table.append(
                {
                    "group": str(group),
                    "rows": int(size["rows"]),
                    "positives": int(size["positives"]),
                    "students": int(size["students"]),
                    "positive_students": int(size["positive_students"]),
                    "true_positive_rate": float(row["true_positive_rate"]),
                    "false_positive_rate": float(row["false_positive_rate"]),
                    "selection_rate": float(row["selection_rate"]),
                    "judged": judged,
                }
            )
        judged = [row for row in table if row["judged"]]

        def gap(metric: str, rows: list[dict] = judged) -> float | None:
            values = [row[metric] for row in rows]
            return float(max(values) - min(values)) if len(values) >= 2 else None

        result[attribute] = {
            "groups": table,
            "equal_opportunity_difference": gap("true_positive_rate"),
            "equal_opportunity_gap": significant_gap(judged, rules["min_z"]),
            "false_positive_rate_difference": gap("false_positive_rate"),
            "selection_rate_difference": gap("selection_rate"),
        }
    return result


def _rate_standard_error(row: dict) -> float:
    """Binomial standard error of a group's TPR over its positive students, the rate
    pulled half a student towards 1/2 so that a rate of 0 or 1 is not taken as exact."""
    n = row["positive_students"]
    p = (row["true_positive_rate"] * n + 0.5) / (n + 1)
    return math.sqrt(p * (1 - p) / n)


def significant_gap(rows: list[dict], min_z: float) -> dict | None:
    """The largest TPR difference between two assessed groups whose z exceeds the
    Bonferroni-raised bar, with its groups, standard error and z; None when no difference
    does (or fewer than two groups are assessed)."""
    if len(rows) < 2:
        return None
    bar = required_z(min_z, len(rows))
    largest = None
    for a, b in itertools.combinations(rows, 2):
        high, low = (a, b) if a["true_positive_rate"] >= b["true_positive_rate"] else (b, a)
        difference = high["true_positive_rate"] - low["true_positive_rate"]
        se = math.hypot(_rate_standard_error(high), _rate_standard_error(low))
        z = difference / se
        if z > bar and (largest is None or difference > largest["difference"]):
            largest = {
                "higher": high["group"],
                "lower": low["group"],
                "difference": float(difference),
                "standard_error": float(se),
                "z": float(z),
                "z_required": float(bar),
            }
    return largest

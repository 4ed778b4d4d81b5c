"""Validation metrics: discrimination (ROC AUC, PR AUC), Brier score and calibration
(expected calibration error and the reliability table it is computed from)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score


def reliability(y_true: np.ndarray, scores: np.ndarray, bins: int) -> list[dict]:
    """Equal-width score bins: rows, mean predicted risk and observed outcome rate per bin."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(scores, edges[1:-1], right=False), 0, bins - 1)
    table = []
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        table.append(
            {
                "bin_lower": round(float(edges[b]), 4),
                "bin_upper": round(float(edges[b + 1]), 4),
                "rows": count,
                "mean_predicted": float(scores[members].mean()) if count else None,
                "observed_rate": float(y_true[members].mean()) if count else None,
            }
        )
    return table


def expected_calibration_error(table: list[dict]) -> float:
    """Row-weighted mean |observed - predicted| over the reliability bins."""
    total = sum(row["rows"] for row in table)
    return float(
        sum(
            row["rows"] * abs(row["observed_rate"] - row["mean_predicted"])
            for row in table
            if row["rows"]
        )
        / total
    )


def metrics(y_true: np.ndarray, scores: np.ndarray, bins: int) -> dict:
    """Every stored validation metric for one set of scored, labelled rows."""
    y_true = np.asarray(y_true, dtype=int)
    scores = np.asarray(scores, dtype=float)
    if len(np.unique(y_true)) < 2:
        raise ValueError("validation rows hold only one outcome class; AUC is undefined")
    table = reliability(y_true, scores, bins)
    return {
        "rows": int(len(y_true)),
        "positive_rate": float(y_true.mean()),
        "roc_auc": float(roc_auc_score(y_true, scores)),
        "pr_auc": float(average_precision_score(y_true, scores)),
        "brier": float(brier_score_loss(y_true, scores)),
        "expected_calibration_error": expected_calibration_error(table),
        "reliability": table,
    }

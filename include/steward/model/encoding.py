"""Module difficulty as a feature: each module's fail-or-withdraw rate in the training
presentations, shrunk towards the overall rate by `smoothing` enrolments' worth (an
empirical-Bayes mean), so a module with few enrolments is not judged on them alone.

Rates are counted per enrolment, not per weekly row. A training row gets the rate from
the other folds of students (`folds`, by a hash of the pseudonym), so no row sees its own
outcome; validation and scoring rows get the rate from all training enrolments, and a
module never seen in training gets the overall rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ENROLMENT = ["student_pseudonym", "module_instance_id"]


@dataclass(frozen=True)
class ModuleRates:
    feature: str
    key: str
    rates: dict[str, float]
    overall: float

    def apply(self, frame: pd.DataFrame) -> np.ndarray:
        codes, modules = pd.factorize(frame[self.key])
        known = np.array([self.rates.get(m, self.overall) for m in modules], dtype="float64")
        return np.append(known, self.overall)[codes]  # code -1 (no module): overall


def _shrunk(positives, enrolments, overall, smoothing):
    return (positives + smoothing * overall) / (enrolments + smoothing)


def fit(train: pd.DataFrame, rules: dict) -> ModuleRates:
    enrolments = train.drop_duplicates(ENROLMENT)
    overall = float(enrolments["label"].mean())
    counts = enrolments.groupby(rules["key"])["label"].agg(["sum", "size"])
    rates = _shrunk(counts["sum"], counts["size"], overall, float(rules["smoothing"]))
    return ModuleRates(rules["feature"], rules["key"], rates.to_dict(), overall)


def cross_fitted(train: pd.DataFrame, rules: dict) -> np.ndarray:
    """The feature for training rows, each from the folds its student is not in."""
    folds = int(rules["folds"])
    students, student_ids = pd.factorize(train["student_pseudonym"])
    student_fold = pd.util.hash_pandas_object(pd.Series(student_ids), index=False).to_numpy()
    fold = (student_fold % folds)[students]
    modules, _ = pd.factorize(train[rules["key"]])
    missing = modules < 0  # no module: the overall rate, as `fit` gives it
    modules = np.where(missing, 0, modules)
    first = ~train.duplicated(ENROLMENT).to_numpy() & ~missing  # one row per enrolment
    shape = (folds, modules.max(initial=0) + 1)
    positives = np.zeros(shape)
    enrolments = np.zeros(shape)
    np.add.at(positives, (fold[first], modules[first]), train["label"].to_numpy()[first])
    np.add.at(enrolments, (fold[first], modules[first]), 1)
    # Out of fold: everything minus the fold itself.
    positives = positives.sum(axis=0) - positives
    enrolments = enrolments.sum(axis=0) - enrolments
    overall = positives.sum(axis=1, keepdims=True) / enrolments.sum(axis=1, keepdims=True)
    rates = _shrunk(positives, enrolments, overall, float(rules["smoothing"]))
    return np.where(missing, overall[fold, 0], rates[fold, modules])

"""The student's engagement across all their modules in the same week, as features of each
of their enrolments.

Engagement is partly the student's own and partly the module's, so a student's other
modules sharpen an estimate that one module's first weeks leave noisy. Each context
feature is the mean, over the student's rows that share a calendar week
(`week_start_date`), of a mart feature (a count as log(1 + x), as the model reads it).
Everything averaged was known at the end of that week, and scoring sees the same rows:
every enrolment of the student in the current week.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

KEY = ["student_pseudonym", "week_start_date"]


@dataclass(frozen=True)
class StudentContext:
    prefix: str
    sources: tuple[str, ...]
    logged: frozenset[str]

    @property
    def features(self) -> list[str]:
        return [self.prefix + source for source in self.sources]

    def apply(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Context feature name -> values, one per row of `frame`."""
        groups = frame.groupby(KEY, sort=False).ngroup().to_numpy()
        out = {}
        for source, name in zip(self.sources, self.features, strict=True):
            values = frame[source].to_numpy(dtype="float64")
            if source in self.logged:
                values = np.log1p(values)
            known = ~np.isnan(values)
            total = np.bincount(groups, weights=np.where(known, values, 0.0))
            count = np.bincount(groups, weights=known.astype("float64"))
            with np.errstate(invalid="ignore", divide="ignore"):
                out[name] = (total / count)[groups]  # no known value in the week: NaN
        return out


def from_policy(rules: dict | None, log_features: frozenset[str]) -> StudentContext | None:
    if not rules:
        return None
    return StudentContext(rules["prefix"], tuple(rules["features"]), log_features)

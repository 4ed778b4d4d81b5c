"""The promotion gate: a candidate is promoted only when it meets every threshold in
`model.yaml`'s `promotion`; otherwise each missed threshold is named with its margin."""

from __future__ import annotations

from dataclasses import dataclass

from steward.model.policy import ModelPolicy
from steward.model.train import Candidate


@dataclass(frozen=True)
class Failure:
    threshold: str
    required: float
    actual: float

    @property
    def by(self) -> float:
        return abs(self.actual - self.required)

    def message(self) -> str:
        return (
            f"{self.threshold}: required {self.required:g}, measured {self.actual:.4f} "
            f"(missed by {self.by:.4f})"
        )

    def as_dict(self) -> dict:
        return {
            "threshold": self.threshold,
            "required": self.required,
            "actual": round(self.actual, 4),
            "by": round(self.by, 4),
            "message": self.message(),
        }


@dataclass(frozen=True)
class Verdict:
    promoted: bool
    failures: tuple[Failure, ...]

    @property
    def label(self) -> str:
        return "promoted" if self.promoted else "refused"


def decide(candidate: Candidate, policy: ModelPolicy) -> Verdict:
    rules = policy.promotion
    failures = []
    auc = candidate.metrics["roc_auc"]
    if auc < rules["min_roc_auc"]:
        failures.append(Failure("min_roc_auc", rules["min_roc_auc"], auc))
    ece = candidate.metrics["expected_calibration_error"]
    if ece > rules["max_expected_calibration_error"]:
        failures.append(
            Failure("max_expected_calibration_error", rules["max_expected_calibration_error"], ece)
        )
    if len(candidate.unstable_used) > rules["max_unstable_features_used"]:
        failures.append(
            Failure(
                f"max_unstable_features_used ({', '.join(candidate.unstable_used)})",
                rules["max_unstable_features_used"],
                len(candidate.unstable_used),
            )
        )
    limit = policy.fairness["max_equal_opportunity_difference"]
    for attribute, result in candidate.fairness.items():
        # Only a gap sampling noise does not explain can refuse a model (see `fairness`).
        gap = result["equal_opportunity_gap"]
        if gap is not None and gap["difference"] > limit:
            failures.append(
                Failure(f"max_equal_opportunity_difference[{attribute}]", limit, gap["difference"])
            )
    return Verdict(promoted=not failures, failures=tuple(failures))

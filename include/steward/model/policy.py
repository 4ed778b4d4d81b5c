"""The model policy (`include/policies/model.yaml`) as typed values."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from steward import policy
from steward.model.context import StudentContext, from_policy


@dataclass(frozen=True)
class RiskBand:
    name: str
    below: float | None


@dataclass(frozen=True)
class ModelPolicy:
    raw: dict[str, Any]

    @property
    def model(self) -> dict[str, Any]:
        return self.raw["model"]

    @property
    def label(self) -> str:
        return self.model["label"]

    @property
    def first_week(self) -> int:
        return int(self.model["weeks"]["first"])

    @property
    def last_week(self) -> int:
        return int(self.model["weeks"]["last"])

    @property
    def candidate_features(self) -> tuple[str, ...]:
        return tuple(self.model["candidate_features"])

    @property
    def log_features(self) -> frozenset[str]:
        return frozenset(self.model["log_features"])

    @property
    def module_encoding(self) -> dict[str, Any] | None:
        return self.model.get("module_encoding")

    @property
    def student_context(self) -> StudentContext | None:
        return from_policy(self.model.get("student_context"), self.log_features)

    @property
    def week_indicators(self) -> bool:
        return bool(self.model.get("week_indicators"))

    @property
    def stability(self) -> dict[str, float]:
        return self.raw["stability"]

    @property
    def promotion(self) -> dict[str, Any]:
        return self.raw["promotion"]

    @property
    def fairness(self) -> dict[str, Any]:
        return self.promotion["fairness"]

    @property
    def risk_bands(self) -> tuple[RiskBand, ...]:
        return tuple(RiskBand(b["name"], b["below"]) for b in self.raw["risk_bands"])

    @property
    def flag_bands(self) -> frozenset[str]:
        return frozenset(self.raw["flag_bands"])

    @property
    def flag_threshold(self) -> float:
        """The lowest score in a flagged band: the single decision threshold."""
        lower = 0.0
        for band in self.risk_bands:
            if band.name in self.flag_bands:
                return lower
            lower = band.below
        raise ValueError("model.yaml: flag_bands names no band in risk_bands")

    @property
    def top_k(self) -> int:
        return int(self.raw["explanation"]["top_k"])

    @property
    def followup_weeks(self) -> int:
        return int(self.raw["interventions"]["followup_weeks"])


@cache
def load() -> ModelPolicy:
    return ModelPolicy(policy.load("model"))

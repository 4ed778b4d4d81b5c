"""Release thresholds: what a release must meet before an analyst may see it.

Policy (``include/policies/``) fills these; nothing in code restates the numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal

from steward.risk.errors import RiskInputError

# Float noise allowance when comparing entropy-l and t with their thresholds.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class Thresholds:
    """k-anonymity, l-diversity, t-closeness and the record suppression budget.

    ``l`` and ``t`` apply only when a release names sensitive attributes; ``None``
    switches one off. ``l_measure`` picks distinct-l or the stricter entropy-l.
    ``suppression`` is the largest fraction of records that may be withheld.
    """

    k: int = 10
    l: int | None = 3  # noqa: E741 - the measure is called l in the literature
    t: float | None = 0.3
    suppression: float = 0.02
    l_measure: Literal["distinct", "entropy"] = "distinct"

    def __post_init__(self) -> None:
        if not isinstance(self.k, int) or self.k < 1:
            raise RiskInputError(f"threshold k must be a whole number >= 1, not {self.k!r}")
        if self.l is not None and (not isinstance(self.l, int) or self.l < 1):
            raise RiskInputError(f"threshold l must be a whole number >= 1, not {self.l!r}")
        if self.t is not None and not 0 <= self.t <= 1:
            raise RiskInputError(f"threshold t must lie in [0, 1], not {self.t!r}")
        if not 0 <= self.suppression < 1:
            raise RiskInputError(
                f"threshold suppression must lie in [0, 1), not {self.suppression!r}"
            )
        if self.l_measure not in ("distinct", "entropy"):
            raise RiskInputError(
                f"threshold l_measure must be 'distinct' or 'entropy', not {self.l_measure!r}"
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Thresholds:
        """Build from a policy mapping such as ``{"k": 10, "l": 3, "t": 0.3}``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise RiskInputError(
                f"unknown release threshold {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**dict(values))

    def budget(self, rows: int) -> int:
        """How many of ``rows`` records may be suppressed."""
        return math.floor(self.suppression * rows + TOLERANCE)

    def failures(self, measures: Mapping[str, Any]) -> list[str]:
        """Why a measured release fails (empty when it passes), from ``RiskMeasures.to_dict()``.

        Measures of a release after suppression are judged as they are; the budget is
        spent by the generaliser, not here.
        """
        reasons = []
        if measures["rows"] and measures["k"] < self.k:
            reasons.append(f"k = {measures['k']} < {self.k}")
        if self.l is not None and measures.get("l_distinct") is not None:
            value = measures["l_distinct" if self.l_measure == "distinct" else "l_entropy"]
            if value < self.l - TOLERANCE:
                reasons.append(f"{self.l_measure}-l = {value:g} < {self.l}")
        if self.t is not None and measures.get("t_closeness") is not None:
            if measures["t_closeness"] > self.t + TOLERANCE:
                reasons.append(f"t = {measures['t_closeness']:.4f} > {self.t}")
        return reasons

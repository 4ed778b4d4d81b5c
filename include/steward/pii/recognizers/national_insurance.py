"""UK National Insurance number: two prefix letters, six digits, suffix A-D."""

from __future__ import annotations

from presidio_analyzer import Pattern

from steward.identifiers import nino_ok
from steward.pii.recognizers._base import ConstantsRecognizer


class NationalInsuranceRecognizer(ConstantsRecognizer):
    """NI number such as `QQ 12 34 56 C`; prefixes HMRC never issues are rejected."""

    ENTITY = "UK_NINO"
    PATTERNS = [
        Pattern(
            "NINO",
            r"\b[A-Z]{2}[ -]?\d{2}[ -]?\d{2}[ -]?\d{2}[ -]?[A-D]\b",
            0.5,
        )
    ]
    CONTEXT = ["national", "insurance", "ni", "nino", "nic"]

    def validate_result(self, pattern_text: str) -> bool:
        return nino_ok(pattern_text.replace("-", ""))

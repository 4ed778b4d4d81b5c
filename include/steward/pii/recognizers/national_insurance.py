"""UK National Insurance number: two prefix letters, six digits, suffix A-D."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from steward.identifiers import nino_ok


class NationalInsuranceRecognizer(PatternRecognizer):
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

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return nino_ok(pattern_text.replace("-", ""))

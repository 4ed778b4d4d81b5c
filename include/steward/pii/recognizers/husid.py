"""HESA unique student identifier (HUSID): thirteen digits, the last a check digit."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from steward.identifiers import husid_ok
from steward.pii.recognizers.uk_phone import NOT_AFTER_PHONE_PREFIX


class HusidRecognizer(PatternRecognizer):
    """HUSID (year of entry, HESA institution code, serial, check digit)."""

    ENTITY = "HUSID"
    PATTERNS = [
        Pattern("HUSID (13 digits)", rf"\b(?=\d{{13}}\b){NOT_AFTER_PHONE_PREFIX}\d{{13}}\b", 0.3)
    ]
    CONTEXT = ["husid", "hesa", "identifier"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return husid_ok(pattern_text)

"""HESA unique student identifier (HUSID): thirteen digits, the last a check digit."""

from __future__ import annotations

from presidio_analyzer import Pattern

from steward.identifiers import husid_ok
from steward.pii.recognizers._base import ConstantsRecognizer
from steward.pii.recognizers.uk_phone import NOT_AFTER_PHONE_PREFIX


class HusidRecognizer(ConstantsRecognizer):
    """HUSID (year of entry, HESA institution code, serial, check digit)."""

    ENTITY = "HUSID"
    PATTERNS = [
        Pattern("HUSID (13 digits)", rf"\b(?=\d{{13}}\b){NOT_AFTER_PHONE_PREFIX}\d{{13}}\b", 0.3)
    ]
    CONTEXT = ["husid", "hesa", "identifier"]

    def validate_result(self, pattern_text: str) -> bool:
        return husid_ok(pattern_text)

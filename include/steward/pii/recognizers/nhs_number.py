"""NHS number: ten digits (often 3-3-4), validated by the modulus 11 check digit."""

from __future__ import annotations

from presidio_analyzer import Pattern

from steward.identifiers import nhs_number_ok
from steward.pii.recognizers._base import ConstantsRecognizer
from steward.pii.recognizers.uk_phone import NOT_AFTER_PHONE_PREFIX


class NhsNumberRecognizer(ConstantsRecognizer):
    """NHS number; reported only when the modulus 11 check digit holds."""

    ENTITY = "NHS"
    PATTERNS = [
        Pattern(
            "NHS number (3-3-4)",
            rf"\b(?=\d{{3}}[ -]?\d){NOT_AFTER_PHONE_PREFIX}\d{{3}}[ -]?\d{{3}}[ -]?\d{{4}}\b",
            0.3,
        )
    ]
    CONTEXT = ["nhs", "health", "gp", "patient", "hospital"]

    def validate_result(self, pattern_text: str) -> bool:
        return nhs_number_ok(pattern_text)

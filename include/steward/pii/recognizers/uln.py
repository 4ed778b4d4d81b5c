"""Unique Learner Number (ULN): ten digits, the last a check digit."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from steward.identifiers import uln_check_digit_ok
from steward.pii.recognizers.uk_phone import NOT_AFTER_PHONE_PREFIX


class UlnRecognizer(PatternRecognizer):
    """ULN issued by the Learning Records Service; reported only when its check digit holds."""

    ENTITY = "ULN"
    PATTERNS = [
        Pattern("ULN (10 digits)", rf"\b(?=\d{{10}}\b){NOT_AFTER_PHONE_PREFIX}[1-9]\d{{9}}\b", 0.3)
    ]
    CONTEXT = ["uln", "learner", "unique", "lrs", "plr"]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return uln_check_digit_ok(pattern_text)

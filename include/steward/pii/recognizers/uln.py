"""Unique Learner Number (ULN): ten digits, the last a check digit."""

from __future__ import annotations

from presidio_analyzer import Pattern

from steward.identifiers import uln_check_digit_ok
from steward.pii.recognizers._base import ConstantsRecognizer
from steward.pii.recognizers.uk_phone import NOT_AFTER_PHONE_PREFIX


class UlnRecognizer(ConstantsRecognizer):
    """ULN issued by the Learning Records Service; reported only when its check digit holds."""

    ENTITY = "ULN"
    PATTERNS = [
        Pattern("ULN (10 digits)", rf"\b(?=\d{{10}}\b){NOT_AFTER_PHONE_PREFIX}[1-9]\d{{9}}\b", 0.3)
    ]
    CONTEXT = ["uln", "learner", "unique", "lrs", "plr"]

    def validate_result(self, pattern_text: str) -> bool:
        return uln_check_digit_ok(pattern_text)

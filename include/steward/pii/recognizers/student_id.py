"""Institutional student identifier; its pattern is policy (`pii.yaml: identifiers.student_id`)."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer


class StudentIdRecognizer(PatternRecognizer):
    """Student record number, e.g. `S1234567` (the pattern comes from policy)."""

    ENTITY = "STUDENT_ID"
    # The format is institution-specific and rarely collides with anything else.
    SCORE = 0.85
    CONTEXT = ["student", "id", "number", "record", "ref", "reference", "sid"]

    def __init__(self, pattern: str, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=[Pattern("student id (policy)", pattern, self.SCORE)],
            context=self.CONTEXT,
            supported_language=supported_language,
        )

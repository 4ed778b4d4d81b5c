"""The shape our pattern recognisers share: configured by class constants."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer


class ConstantsRecognizer(PatternRecognizer):
    """A Presidio pattern recogniser built from its class constants `ENTITY`, `PATTERNS`
    and `CONTEXT` (Presidio's own house style for recognisers)."""

    ENTITY: str
    PATTERNS: list[Pattern]
    CONTEXT: list[str]

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
        )

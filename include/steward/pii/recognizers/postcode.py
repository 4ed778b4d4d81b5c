"""UK postcode in any of the six outward/inward formats, plus GIR 0AA."""

from __future__ import annotations

from presidio_analyzer import Pattern

from steward.pii.recognizers._base import ConstantsRecognizer


class PostcodeRecognizer(ConstantsRecognizer):
    """Postcode such as `LS6 2QT` or `EC1A 1BB` (letters restricted by position)."""

    ENTITY = "UK_POSTCODE"
    # Position-specific letter sets from the Royal Mail format rules.
    PATTERNS = [
        Pattern(
            "UK postcode",
            r"\b(?=[A-Z]{1,2}\d|GIR)(?:GIR ?0AA"
            r"|[A-PR-UWYZ][0-9][ABCDEFGHJKPSTUW]? ?[0-9][ABD-HJLNP-UW-Z]{2}"
            r"|[A-PR-UWYZ][0-9]{2} ?[0-9][ABD-HJLNP-UW-Z]{2}"
            r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]? ?[0-9][ABD-HJLNP-UW-Z]{2}"
            r"|[A-PR-UWYZ][A-HK-Y][0-9]{2} ?[0-9][ABD-HJLNP-UW-Z]{2})\b",
            0.6,
        )
    ]
    CONTEXT = ["postcode", "address", "live", "lives", "living", "road", "street", "flat"]

"""Email addresses, with the domain checked against the bundled public suffix list."""

from __future__ import annotations

import tldextract
from presidio_analyzer import Pattern

from steward.pii.recognizers._base import ConstantsRecognizer

# Offline and deterministic: no fetch of the live suffix list, no disk cache; the
# snapshot bundled with tldextract is read on first use.
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


class EmailAddressRecognizer(ConstantsRecognizer):
    """Email address whose domain ends in a known public suffix."""

    ENTITY = "EMAIL_ADDRESS"
    PATTERNS = [
        Pattern(
            "email",
            r"\b[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
            r"@\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+\b",
            0.5,
        )
    ]
    CONTEXT = ["email", "e-mail", "mail", "contact", "address"]

    def validate_result(self, pattern_text: str) -> bool:
        return _SUFFIXES(pattern_text.rsplit("@", 1)[-1]).fqdn != ""

"""UK telephone numbers: mobiles, geographic and non-geographic landlines, +44 forms."""

from __future__ import annotations

from presidio_analyzer import Pattern

from steward.pii.recognizers._base import ConstantsRecognizer

# For digit-run recognisers (NHS, ULN, HUSID): digits written straight after "+44" or
# "(0)" are the rest of a telephone number.
NOT_AFTER_PHONE_PREFIX = r"(?<!\+44)(?<!\+44 )(?<!\(0\))(?<!\(0\) )"

# Trunk prefix as written: "+44", "+44 (0)", "0" or "(0" (closing bracket after the area code).
_PREFIX = r"(?<![\w+])(?:\+44[ ]?(?:\(0\)[ ]?)?|\(?0)"
_SEP = r"[ -]?"
# National significant numbers by the groupings Ofcom's numbering plan uses; each
# alternative fixes the digit count, so neighbouring numbers are never swallowed.
_NATIONAL = (
    rf"(?:7\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{3}}"  # 07700 900 123
    rf"|7\d{{3}}{_SEP}\d{{6}}"  # 07700 900123
    rf"|2\d\)?{_SEP}\d{{4}}{_SEP}\d{{4}}"  # 020 7946 0000
    rf"|1\d1\)?{_SEP}\d{{3}}{_SEP}\d{{4}}"  # 0161 496 0000
    rf"|11\d\)?{_SEP}\d{{3}}{_SEP}\d{{4}}"  # 0113 496 0000
    rf"|1\d{{3}}\)?{_SEP}\d{{3}}{_SEP}\d{{3}}"  # 01632 960 123
    rf"|1\d{{3}}\)?{_SEP}\d{{5,6}}"  # 01632 960123
    rf"|[389]\d{{2}}\)?{_SEP}\d{{3}}{_SEP}\d{{4}}"  # 0300 123 4567
    rf"|[12378]\d{{8,9}})"  # unspaced
)


class UkPhoneRecognizer(ConstantsRecognizer):
    """Telephone number in any common UK writing (`07700 900123`, `+44 (0)20 7946 0000`)."""

    ENTITY = "UK_PHONE"
    PATTERNS = [Pattern("UK phone", rf"{_PREFIX}{_NATIONAL}(?![\d])", 0.6)]
    CONTEXT = [
        "phone",
        "mobile",
        "landline",
        "tel",
        "telephone",
        "call",
        "ring",
        "text",
        "contact",
        "number",
    ]

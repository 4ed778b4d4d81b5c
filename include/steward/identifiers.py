"""Check-digit and format rules for UK education and public-sector identifiers.

Used by the synthetic generator (to mint valid identifiers) and by PII recognisers
(to cut false positives: a 10-digit number that fails the ULN check is not a ULN).
Every function takes the identifier as printed and ignores spaces where the
identifier is commonly written with them.
"""

from __future__ import annotations

import re

__all__ = [
    "husid_check_digit",
    "husid_ok",
    "nhs_number_ok",
    "nino_ok",
    "uk_postcode_ok",
    "uln_check_digit",
    "uln_check_digit_ok",
]

_ULN_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def uln_check_digit(first_nine: str) -> int | None:
    """Return the check digit for the first nine digits of a Unique Learner Number.

    The Learning Records Service rule (as published by HESA for field ULN and in
    LRS guidance): multiply digits 1..9 by the weights 10, 9, 8, 7, 6, 5, 4, 3, 2,
    sum the products and take the remainder modulo 11. The check digit is
    ``10 - remainder``. A remainder of 0 would need a check digit of 10, so no ULN
    is issued with those nine digits: this function returns ``None`` and
    generators must draw again. (Remainder 1 gives 9, remainder 10 gives 0.)

    Equivalently, a full ULN is valid when the sum of all ten digits weighted
    10, 9, ..., 1 leaves remainder 10 modulo 11 (HESA's worked example:
    9276308686 sums to 296 = 26 * 11 + 10). The first digit is never 0.
    """
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError(f"ULN stem must be 9 digits, got {first_nine!r}")
    remainder = sum(int(d) * w for d, w in zip(first_nine, _ULN_WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return None
    return 10 - remainder


def uln_check_digit_ok(uln: str) -> bool:
    """True when ``uln`` is ten digits, starts non-zero and its check digit is right."""
    uln = uln.replace(" ", "")
    if len(uln) != 10 or not uln.isdigit() or uln[0] == "0":
        return False
    return uln_check_digit(uln[:9]) == int(uln[9])


_HUSID_WEIGHTS = (1, 3) * 6


def husid_check_digit(first_twelve: str) -> int:
    """Return the check digit for a 13-digit HESA unique student identifier (HUSID).

    Structure: 2-digit year of entry, 4-digit HESA institution identifier, 6-digit
    serial allocated by the institution, 1 check digit. HESA computes the check
    digit by weighting each of the first 12 digits by a position-dependent weight,
    summing, and subtracting the last digit of the sum from ten (a result of ten
    becomes 0). HESA's weight table is not reproduced in our sources, so this
    project uses the alternating weights 1, 3, 1, 3, ... (the GTIN/EAN family).
    Treat HUSIDs from the generator as well-formed, not as HESA-issued.
    """
    if len(first_twelve) != 12 or not first_twelve.isdigit():
        raise ValueError(f"HUSID stem must be 12 digits, got {first_twelve!r}")
    total = sum(int(d) * w for d, w in zip(first_twelve, _HUSID_WEIGHTS, strict=True))
    return (10 - total % 10) % 10


def husid_ok(husid: str) -> bool:
    """True when ``husid`` is 13 digits whose last digit is :func:`husid_check_digit`."""
    husid = husid.replace(" ", "")
    if len(husid) != 13 or not husid.isdigit():
        return False
    return husid_check_digit(husid[:12]) == int(husid[12])


def nhs_number_ok(nhs_number: str) -> bool:
    """True for a valid 10-digit NHS number (often printed 3-3-4 with spaces).

    Digits 1..9 are weighted 10..2 and summed; the check digit is
    ``11 - (sum mod 11)``, where 11 becomes 0 and 10 means the number is invalid.
    """
    digits = nhs_number.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], _ULN_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


# HMRC: first letter not D, F, I, Q, U, V; second not D, F, I, O, Q, U, V;
# prefixes BG, GB, KN, NK, NT, TN and ZZ are never allocated; suffix A-D.
_NINO_RE = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")
NINO_BARRED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def nino_ok(nino: str) -> bool:
    """True for a National Insurance number in valid HMRC format (spaces ignored)."""
    compact = nino.replace(" ", "").upper()
    return bool(_NINO_RE.match(compact)) and compact[:2] not in NINO_BARRED_PREFIXES


_POSTCODE_RE = re.compile(
    r"^(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY]) ?[0-9][ABD-HJLNP-UW-Z]{2}$"
)


def uk_postcode_ok(postcode: str) -> bool:
    """True when ``postcode`` has the shape of a UK postcode (Royal Mail format rules).

    Checks the format only (outward code, optional space, inward code), not that
    the postcode is allocated.
    """
    return bool(_POSTCODE_RE.match(postcode.strip().upper()))

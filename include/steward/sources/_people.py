"""Generators for people and their identifiers: names from several heritage pools,
UK postcodes, mobile and landline numbers, National Insurance numbers, dates of birth,
email addresses and usernames.

The same generators feed the student record and the tutor case notes, so PII
recognisers are evaluated on the values the institution actually holds. Each takes a
``random.Random`` so callers control determinism.
"""

from __future__ import annotations

import bisect
import itertools
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache

from faker.providers.person import en_GB, en_IE, en_IN, en_NG, pl_PL, yo_NG, zh_CN

from steward.identifiers import NINO_BARRED_PREFIXES
from steward.sources import _catalogue as cat

# Names Faker's en_GB lists lack for people born around 2000-2008 (ONS popular names),
# and Welsh, Scottish and British Muslim names.
_GB_YOUNG_M = (
    "Oliver Jack Harry Joshua Thomas Charlie Daniel James William Samuel Alfie Joseph "
    "Ethan Lewis Ryan Callum Dylan Jake Connor Luke Kieran Liam Harvey Toby Max"
).split()
_GB_YOUNG_F = (
    "Olivia Emily Jessica Sophie Chloe Lucy Ellie Grace Amelia Megan Charlotte Hannah "
    "Holly Katie Lauren Abigail Ruby Evie Millie Poppy Isabelle Amber Freya Niamh Leah"
).split()
_WELSH_M = "Dafydd Rhys Gethin Iwan Osian Owain Tomos Gareth Emyr Huw Aled Cai".split()
_WELSH_F = "Cerys Ffion Seren Carys Megan Nia Lowri Bethan Elin Catrin Sian Gwen".split()
_WELSH_LAST = (
    "Jones Williams Davies Evans Thomas Roberts Hughes Lewis Morgan Griffiths Price Powell "
    "Llewellyn Pritchard Rees Jenkins Howells Vaughan"
).split()
_SCOT_M = "Callum Ewan Fraser Angus Euan Hamish Lachlan Ruaridh Finlay Calum Murray Craig".split()
_SCOT_F = "Eilidh Isla Mhairi Skye Kirsty Morag Catriona Fiona Iona Ailsa Rhona Shona".split()
_SCOT_LAST = (
    "MacDonald Campbell Stewart Robertson Fraser MacLeod Ross Murray Sinclair McKenzie "
    "Paterson Henderson Ferguson Cameron Gillespie Buchanan"
).split()
_PK_M = (
    "Mohammed Muhammad Ahmed Ali Hassan Hussain Omar Bilal Usman Imran Zain Adam Ibrahim "
    "Yusuf Hamza Ayaan Abdul Tariq Faisal Rehan"
).split()
_PK_F = (
    "Aisha Fatima Maryam Zara Amira Hafsa Sana Ayesha Noor Khadija Mariam Iqra Zainab Hira "
    "Safiya Nadia Samira Yasmin Layla Anam"
).split()
_PK_LAST = (
    "Khan Ahmed Ali Hussain Begum Iqbal Akhtar Mahmood Rashid Malik Shah Butt Chaudhry Aziz "
    "Rahman Uddin Islam Miah Hassan Qureshi Sheikh Mirza Siddiqui Javed Nawaz"
).split()


@dataclass(frozen=True)
class Pool:
    first_m: tuple[str, ...]
    first_f: tuple[str, ...]
    last: tuple[str, ...]
    last_f: tuple[str, ...] | None = None  # gendered surnames (Polish -ski / -ska)


def _names(source) -> tuple[str, ...]:
    # Faker keeps some lists as weighted dicts; the names are the keys either way.
    return tuple(dict.fromkeys(source))


def _polish_feminine(surname: str) -> str:
    for male, female in (("cki", "cka"), ("dzki", "dzka"), ("ski", "ska")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


@cache
def pools() -> dict[str, Pool]:
    gb = en_GB.Provider
    pl_last = _names(pl_PL.Provider.male_last_names) + _names(pl_PL.Provider.unisex_last_names)
    return {
        "gb": Pool(
            _names(gb.first_names_male) + tuple(_GB_YOUNG_M) * 4,
            _names(gb.first_names_female) + tuple(_GB_YOUNG_F) * 4,
            _names(gb.last_names),
        ),
        "wales": Pool(tuple(_WELSH_M), tuple(_WELSH_F), tuple(_WELSH_LAST)),
        "scotland": Pool(tuple(_SCOT_M), tuple(_SCOT_F), tuple(_SCOT_LAST)),
        "ie": Pool(
            _names(en_IE.Provider.first_names_male),
            _names(en_IE.Provider.first_names_female),
            _names(en_IE.Provider.last_names),
        ),
        "in": Pool(
            _names(en_IN.Provider.first_names_male),
            _names(en_IN.Provider.first_names_female),
            _names(en_IN.Provider.last_names),
        ),
        "pk": Pool(tuple(_PK_M), tuple(_PK_F), tuple(_PK_LAST)),
        "cn": Pool(
            _names(zh_CN.Provider.first_romanized_names),
            _names(zh_CN.Provider.first_romanized_names),
            _names(zh_CN.Provider.last_romanized_names),
        ),
        "ng": Pool(
            _names(yo_NG.Provider.first_names_male) + _names(en_NG.Provider.first_names_male),
            _names(yo_NG.Provider.first_names_female) + _names(en_NG.Provider.first_names_female),
            _names(yo_NG.Provider.last_names) + _names(en_NG.Provider.last_names),
        ),
        "pl": Pool(
            _names(pl_PL.Provider.first_names_male),
            _names(pl_PL.Provider.first_names_female),
            pl_last,
            tuple(_polish_feminine(s) for s in pl_last),
        ),
    }


# Which pool a student's name comes from, by ETHNICITY (home students) ...
_POOL_BY_ETHNICITY = {
    "19": (("pl", 0.5), ("gb", 0.5)),
    "51": (("ie", 1.0),),
    "31": (("in", 1.0),),
    "32": (("pk", 1.0),),
    "33": (("pk", 1.0),),
    "50": (("pk", 1.0),),
    "39": (("in", 0.5), ("pk", 0.5)),
    "34": (("cn", 1.0),),
    "22": (("ng", 1.0),),
    "29": (("ng", 0.5), ("gb", 0.5)),
}
# ... or by DOMICILE for students from outside the UK.
_POOL_BY_DOMICILE = {
    "CN": "cn",
    "HK": "cn",
    "MY": "cn",
    "IN": "in",
    "PK": "pk",
    "BD": "pk",
    "NG": "ng",
    "GH": "ng",
    "PL": "pl",
    "RO": "pl",
    "IE": "ie",
}
# Ethnicity of non-UK-domiciled students follows their domicile.
ETHNICITY_BY_DOMICILE = {
    "CN": "34",
    "HK": "34",
    "MY": "39",
    "IN": "31",
    "PK": "32",
    "BD": "33",
    "NG": "22",
    "GH": "22",
    "PL": "19",
    "RO": "19",
    "IE": "51",
}


@cache
def _cumulative(options: tuple[tuple[str, float], ...]) -> tuple[tuple[str, ...], list[float]]:
    return tuple(o for o, _ in options), list(itertools.accumulate(w for _, w in options))


def weighted(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    """One option, drawn with probability proportional to its weight."""
    values, cumulative = _cumulative(options)
    return values[bisect.bisect(cumulative, rng.random() * cumulative[-1])]


def pool_for(rng: random.Random, ethnicity: str, domicile: str) -> str:
    if domicile in _POOL_BY_DOMICILE:
        return _POOL_BY_DOMICILE[domicile]
    if ethnicity in _POOL_BY_ETHNICITY:
        return weighted(rng, _POOL_BY_ETHNICITY[ethnicity])
    nation = cat.NATION_BY_DOMICILE.get(domicile)
    if nation in ("wales", "scotland") and rng.random() < 0.5:
        return nation
    return "gb"


def person_name(rng: random.Random, pool: str, sex: str) -> tuple[str, str]:
    """(first, last) from ``pool``; sex '1' male, '2' female, anything else either."""
    p = pools()[pool]
    female = sex == "2" or (sex not in ("1", "2") and rng.random() < 0.5)
    first = rng.choice(p.first_f if female else p.first_m)
    index = rng.randrange(len(p.last))
    last = (p.last_f if female and p.last_f else p.last)[index]
    return first, last


def ascii_slug(text: str) -> str:
    """Lower-case ASCII letters only, for usernames and email local parts."""
    text = text.replace("ł", "l").replace("Ł", "L")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.lower() if "a" <= ch <= "z")


def postcode(rng: random.Random, areas: Sequence[tuple[str, int]]) -> str:
    area, max_district = rng.choice(areas)
    district = rng.randint(1, max_district)
    inward = f"{rng.randint(0, 9)}{rng.choice(cat.POSTCODE_INWARD_LETTERS)}"
    return f"{area}{district} {inward}{rng.choice(cat.POSTCODE_INWARD_LETTERS)}"


def postcode_for_domicile(rng: random.Random, domicile: str) -> str:
    nation = cat.NATION_BY_DOMICILE.get(domicile)
    if nation is None:
        return postcode(rng, cat.LOCAL_POSTCODE_AREAS)
    return postcode(rng, cat.POSTCODE_AREAS[nation])


def any_postcode(rng: random.Random) -> str:
    nation = weighted(
        rng, (("england", 80.0), ("wales", 8.0), ("scotland", 9.0), ("northern_ireland", 3.0))
    )
    return postcode(rng, cat.POSTCODE_AREAS[nation])


def mobile_digits(rng: random.Random) -> str:
    return rng.choice(cat.MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


MOBILE_STYLES = ("spaced", "compact", "intl_spaced", "intl_compact", "grouped")


def format_mobile(digits: str, style: str) -> str:
    """``digits`` is 11 digits starting 07."""
    national = digits[1:]
    if style == "spaced":
        return f"{digits[:5]} {digits[5:]}"
    if style == "compact":
        return digits
    if style == "intl_spaced":
        return f"+44 {national[:4]} {national[4:]}"
    if style == "intl_compact":
        return f"+44{national}"
    if style == "grouped":
        return f"{digits[:5]} {digits[5:8]} {digits[8:]}"
    raise ValueError(f"unknown mobile style {style!r}")


def mobile(rng: random.Random, styles: Sequence[str] = MOBILE_STYLES) -> str:
    return format_mobile(mobile_digits(rng), rng.choice(styles))


LANDLINE_STYLES = ("national", "intl", "intl_trunk")


def landline(rng: random.Random, style: str | None = None) -> str:
    area, length = rng.choice(cat.LANDLINE_AREAS)
    subscriber = f"{rng.randrange(2 * 10 ** (length - 1), 10**length)}"
    if length == 8:
        local = f"{subscriber[:4]} {subscriber[4:]}"
    elif length == 7:
        local = f"{subscriber[:3]} {subscriber[3:]}"
    else:
        local = subscriber
    style = style or rng.choice(LANDLINE_STYLES)
    if style == "national":
        return f"{area} {local}"
    if style == "intl":
        return f"+44 {area[1:]} {local}"
    return f"+44 (0){area[1:]} {local}"


_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"


def nino(rng: random.Random) -> str:
    """A National Insurance number in valid HMRC format, compact (AB123456C)."""
    while True:
        prefix = rng.choice(_NINO_FIRST) + rng.choice(_NINO_SECOND)
        if prefix not in NINO_BARRED_PREFIXES:
            break
    return f"{prefix}{rng.randrange(10**6):06d}{rng.choice('ABCD')}"


def format_nino(compact: str, style: str) -> str:
    if style == "compact":
        return compact
    if style == "pairs":
        d = compact[2:8]
        return f"{compact[:2]} {d[:2]} {d[2:4]} {d[4:]} {compact[8]}"
    if style == "block":
        return f"{compact[:2]} {compact[2:8]} {compact[8]}"
    raise ValueError(f"unknown NI number style {style!r}")


NINO_STYLES = ("compact", "pairs", "block")

_MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


DATE_STYLES = ("slash", "dot", "long", "iso", "us_long", "ordinal", "short_month")


def format_date(d: date, style: str) -> str:
    if style == "slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "dot":
        return f"{d.day:02d}.{d.month:02d}.{d.year}"
    if style == "long":
        return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"
    if style == "iso":
        return d.isoformat()
    if style == "us_long":
        return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"
    if style == "ordinal":
        return f"{_ordinal(d.day)} {_MONTHS[d.month - 1]} {d.year}"
    if style == "short_month":
        return f"{d.day} {_MONTHS[d.month - 1][:3]} {d.year}"
    raise ValueError(f"unknown date style {style!r}")


def unique_handle(base: str, taken: set[str], rng: random.Random, digits: int = 2) -> str:
    """``base`` plus a number, unique within ``taken`` (which it updates)."""
    while True:
        candidate = f"{base}{rng.randrange(10 ** (digits - 1), 10**digits)}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        digits += rng.random() < 0.1  # crowded namespace: widen the number now and then


def email_local(first: str, last: str) -> str:
    return f"{ascii_slug(first) or 'x'}.{ascii_slug(last) or 'x'}"


def unique_email(first: str, last: str, domain: str, taken: set[str]) -> str:
    local = email_local(first, last)
    candidate, n = local, 1
    while candidate in taken:
        n += 1
        candidate = f"{local}{n}"
    taken.add(candidate)
    return f"{candidate}@{domain}"

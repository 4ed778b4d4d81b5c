"""The request policy (`include/policies/requests.yaml`) and the request kinds, read once;
and the one gate every student id and request id passes before it is used."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from steward import contracts, data_policy, policy

CONSENT = "consent"
# The kinds the `subject_requests` contract accepts, plus consent changes (which arrive
# as consent events or from a steward, never as a subject_requests row).
REQUEST_TYPES = (*contracts.table("subject_requests").column("request_type").values, CONSENT)
CONSENT_ACTIONS = contracts.table("consent_events").column("action").values


class RequestRefused(ValueError):
    """A request that cannot be carried out as asked. The message is the reason recorded
    in the request log: it never repeats the student's identifiers or values."""


@dataclass(frozen=True)
class Field:
    table: str  # raw table, e.g. "students"
    column: str


@dataclass(frozen=True)
class RequestPolicy:
    raw: dict

    @property
    def due_within_months(self) -> int:
        return int(self.raw["due_within_months"])

    @property
    def identifier_pattern(self) -> re.Pattern[str]:
        return re.compile(self.raw["identifier_pattern"])

    @property
    def rectifiable(self) -> dict[str, Field]:
        """Every accepted field name (canonical or alias, upper case) -> the column."""
        names = {}
        for table, columns in self.raw["rectifiable"].items():
            for column, aliases in columns.items():
                contracts.table(table).column(column)  # a typo in the policy fails loudly
                for name in (column, *(aliases or [])):
                    names[name.upper()] = Field(table, column)
        return names

    @property
    def withheld(self) -> dict[str, dict]:
        """Warehouse table -> {"columns": [...], "reason": "..."}."""
        return self.raw.get("student_access", {}).get("withheld", {})


@cache
def load() -> RequestPolicy:
    return RequestPolicy(policy.load("requests"))


def identifier(value: object, what: str) -> str:
    """`value` stripped, if it has the declared form; else the request is refused."""
    text = str(value or "").strip()
    if not load().identifier_pattern.fullmatch(text):
        raise RequestRefused(
            f"the {what} is not in the accepted form (letters, digits, '-' and '_', "
            "at most 64 characters, starting with a letter or digit)"
        )
    return text


def field(name: object) -> Field:
    """The column a rectification names, if policy lets a student correct it."""
    found = load().rectifiable.get(str(name or "").strip().upper())
    if found is None:
        allowed = sorted({f.column for f in load().rectifiable.values()})
        raise RequestRefused(
            "the field cannot be corrected through a request (correctable: "
            f"{', '.join(allowed)}); other corrections are made in the source system"
        )
    return found


def statutory_columns(table: str) -> set[str]:
    """Columns of a raw table kept through an erasure (`statutory: true` in data.yaml)."""
    columns = data_policy.tables()[table]["columns"]
    return {name for name, rule in columns.items() if rule.get("statutory")}


def consent_purposes() -> list[str]:
    """Purposes a consent change can be about: those that act only with consent."""
    return [p["name"] for p in policy.purposes() if p.get("requires_consent")]

"""Extracts with no national standard, in the shape our institution exports them: tutor
case notes and data subject requests (JSON lines) and consent events (CSV)."""

from __future__ import annotations

from steward.sources.base import Adapter

# Raw control characters are quarantined by framing; written as JSON escapes (\u0000)
# they only appear once a value is decoded, so they are looked for there.
_CONTROL = r"'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]'"


def _json_fields(mapping: dict[str, str]) -> str:
    paths = ", ".join(f"'$.{key}'" for key in mapping.values())
    names = ", ".join(f"'{name}'" for name in mapping)
    columns = ",\n    ".join(f"v[{i + 1}] as {name}" for i, name in enumerate(mapping))
    return f"""
with records as (
    select _line, json_valid(doc) as is_json, doc from src
),
fields as (
    select _line, is_json, doc,
        case when is_json then json_extract_string(doc, [{paths}]) end as v
    from records
),
checked as (
    select *,
        case when contains(doc, '\\') then list_position(
            list_transform(v, lambda x: coalesce(regexp_matches(x, {_CONTROL}), false)), true
        ) end as control_at
    from fields
)
select
    _line,
    {columns},
    case
        when not is_json then 'not valid JSON'
        when json_type(doc) <> 'OBJECT' then 'not a JSON object'
        when control_at is not null then printf(
            '%s|control character U+%04X (written as a JSON escape)',
            [{names}][control_at], unicode(regexp_extract(v[control_at], {_CONTROL}))
        )
    end as _error
from checked
"""


CASE_NOTE_FIELDS = {
    "note_id": "note_id",
    "student_id": "student_id",
    "staff_id": "staff_id",
    "created_at": "created_at",
    "note_text": "text",
}
SUBJECT_REQUEST_FIELDS = {
    "request_id": "request_id",
    "student_id": "student_id",
    "request_type": "request_type",
    "received_at": "received_at",
    "field": "field",
    "new_value": "new_value",
}

ADAPTERS = (
    Adapter(
        name="case_notes",
        framing="jsonl",
        targets={"case_notes": _json_fields(CASE_NOTE_FIELDS)},
        signature=frozenset({"note_id", "student_id", "text"}),
        reads=frozenset(CASE_NOTE_FIELDS.values()),
        suffixes=(".jsonl",),
        description="tutor case notes, one JSON object per line",
    ),
    Adapter(
        name="subject_requests",
        framing="jsonl",
        targets={"subject_requests": _json_fields(SUBJECT_REQUEST_FIELDS)},
        signature=frozenset({"request_id", "student_id", "request_type"}),
        reads=frozenset(SUBJECT_REQUEST_FIELDS.values()),
        suffixes=(".jsonl",),
        description="data subject requests (access, erasure, rectification)",
    ),
    Adapter(
        name="consent_events",
        framing="delimited",
        targets={
            "consent_events": """
select _line,
    "EVENT_ID" as event_id,
    "STUDENT_ID" as student_id,
    "PURPOSE" as purpose,
    lower("ACTION") as action,
    "OCCURRED_AT" as occurred_at
from src"""
        },
        signature=frozenset({"EVENT_ID", "STUDENT_ID", "PURPOSE", "ACTION", "OCCURRED_AT"}),
        reads=frozenset({"EVENT_ID", "STUDENT_ID", "PURPOSE", "ACTION", "OCCURRED_AT"}),
        suffixes=(".csv",),
        description="consent grant and withdrawal events per purpose",
    ),
)

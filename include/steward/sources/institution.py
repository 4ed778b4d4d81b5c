"""Extracts with no national standard, in the shape our institution exports them: tutor
case notes and data subject requests (JSON lines) and consent events (CSV)."""

from __future__ import annotations

from steward.sources.base import Adapter


def _json_fields(mapping: dict[str, str]) -> str:
    paths = ", ".join(f"'$.{key}'" for key in mapping.values())
    columns = ",\n    ".join(f"v[{i + 1}] as {name}" for i, name in enumerate(mapping))
    return f"""
with records as (
    select _line, json_valid(doc) as is_json, doc from src
)
select
    _line,
    {columns},
    case
        when not is_json then 'not valid JSON'
        when json_type(doc) <> 'OBJECT' then 'not a JSON object'
    end as _error
from (
    select _line, is_json, doc,
        case when is_json then json_extract_string(doc, [{paths}]) end as v
    from records
)
"""


ADAPTERS = (
    Adapter(
        name="case_notes",
        framing="jsonl",
        targets={
            "case_notes": _json_fields(
                {
                    "note_id": "note_id",
                    "student_id": "student_id",
                    "staff_id": "staff_id",
                    "created_at": "created_at",
                    "note_text": "text",
                }
            )
        },
        signature=frozenset({"note_id", "student_id", "text"}),
        suffixes=(".jsonl",),
        description="tutor case notes, one JSON object per line",
    ),
    Adapter(
        name="subject_requests",
        framing="jsonl",
        targets={
            "subject_requests": _json_fields(
                {
                    "request_id": "request_id",
                    "student_id": "student_id",
                    "request_type": "request_type",
                    "received_at": "received_at",
                    "field": "field",
                    "new_value": "new_value",
                }
            )
        },
        signature=frozenset({"request_id", "student_id", "request_type"}),
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

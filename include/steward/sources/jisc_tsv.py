"""Flat tab-separated inputs of the Jisc xAPI recipes (jiscdev/xapi, recipes/*/tsv): the
shape institutions extract attendance and library loans in before statements are built.

Times without an offset (attendance START_TIME, library TIMESTAMP dates) are read as UTC,
the stores' time zone. Columns with no canonical home (EVENT_DESCRIPTION, EVENT_MAX_COUNT,
EVENT_MANDATORY, ATTENDANCE_CATEGORY) are not carried.
"""

from __future__ import annotations

from steward.sources.base import Adapter


def _tsv(
    name: str, target: str, mapping: dict[str, str], signature: set[str], description: str
) -> Adapter:
    columns = ",\n    ".join(f'"{src}" as {dst}' for dst, src in mapping.items())
    return Adapter(
        name=name,
        framing="delimited",
        targets={target: f"select _line,\n    {columns}\nfrom src"},
        signature=frozenset(signature),
        reads=frozenset(mapping.values()),
        suffixes=(".tsv", ".txt"),
        description=description,
    )


ADAPTERS = (
    _tsv(
        "jisc_attendance",
        "attendance",
        {
            "student_id": "STUDENT_ID",
            "event_id": "EVENT_ID",
            "event_name": "EVENT_NAME",
            "event_type": "EVENT_TYPE",
            "start_at": "START_TIME",
            "end_at": "END_TIME",
            "attended": "EVENT_ATTENDED",
            "late": "ATTENDANCE_LATE",
            "staff_id": "STAFF_ID",
            "module_instance_id": "MOD_INSTANCE_ID",
            "course_instance_id": "COURSE_INSTANCE_ID",
        },
        {"STUDENT_ID", "EVENT_ID", "START_TIME", "EVENT_ATTENDED"},
        "Jisc attendance recipe input: one row per student and timetabled event",
    ),
    _tsv(
        "jisc_library_loans",
        "library_loans",
        {
            "username": "USERNAME",
            "item_id": "ITEM_ID",
            "item_name": "ITEM_NAME",
            "item_subtype": "ITEM_SUBTYPE",
            "site": "BORROWING_SITE",
            "borrowed_at": "TIMESTAMP",
        },
        {"USERNAME", "ITEM_ID", "BORROWING_SITE", "TIMESTAMP"},
        "Jisc library recipe input: one row per item borrowed",
    ),
)

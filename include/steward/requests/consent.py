"""A consent change a student makes through a request: recorded as one more consent event
in the identified zone (`raw.consent_events`, the same table the consent extract loads),
so the next dbt build resolves it like any other event (`int_consents_resolved`) and a
withdrawal takes the student out of `fct_intervention_cohort`: no intervention is opened
for them from the next scoring run on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb

from steward.requests.policy import CONSENT_ACTIONS, RequestRefused, consent_purposes
from steward.requests.subject import table_exists

SOURCE = "subject request"  # `_source_file` of events recorded from a request


def change(
    con: duckdb.DuckDBPyConnection,
    request_id: str,
    student_id: str,
    purpose: str,
    action: str,
    occurred_at: datetime,
) -> dict[str, Any]:
    """Record the change in the open identified store; return counts (no values)."""
    purpose, action = (purpose or "").strip(), (action or "").strip().lower()
    if purpose not in consent_purposes():
        raise RequestRefused(
            f"consent can be changed for {', '.join(consent_purposes())} only "
            "(the other purposes do not rest on consent)"
        )
    if action not in CONSENT_ACTIONS:
        raise RequestRefused(f"a consent change is one of {', '.join(CONSENT_ACTIONS)}")
    if (
        not table_exists(con, "raw.students")
        or not con.execute(
            "select 1 from raw.students where trim(student_id) = ?", [student_id]
        ).fetchone()
    ):
        raise RequestRefused("no records are held under this student id")
    # the request id is the event id: handling the same request twice records it once
    con.execute(
        """insert into raw.consent_events by name
        select ? as event_id, ? as student_id, ? as purpose, ? as action,
            ?::timestamptz as occurred_at, ? as _source_file, ?::timestamptz as _loaded_at
        where not exists (select 1 from raw.consent_events where event_id = ?)""",
        [
            request_id,
            student_id,
            purpose,
            action,
            occurred_at,
            SOURCE,
            datetime.now(UTC),
            request_id,
        ],
    )
    return {
        "tables": {"identified.raw.consent_events": {"consent_events_recorded": 1}},
        "purpose": purpose,
        "action": action,
    }

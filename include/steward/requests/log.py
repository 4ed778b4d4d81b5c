"""The request log (`request_log` in the audit store): every request with its deadline and
outcome, so a steward sees what is open and how many days are left. It holds request
ids, kinds, dates and counts, never the student's identity: a request is linked to its
student only in the identified zone, and an erasure removes even that."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steward import audit, stores
from steward.requests import policy

STATUSES = ("open", "done", "refused")

SCHEMA = """
create table if not exists request_log (
    request_id varchar primary key,
    request_type varchar not null,
    source varchar not null,
    received_at timestamptz not null,
    due_by timestamptz not null,
    status varchar not null,
    completed_at timestamptz,
    counts json,
    reason varchar,
    policy_version varchar
)"""


def receive(request_id: str, request_type: str, received_at: datetime, source: str) -> None:
    """Open one request (see `receive_many`)."""
    receive_many([(request_id, request_type, received_at, source)])


def receive_many(requests: list[tuple[str, str, datetime, str]]) -> None:
    """Open each (request id, kind, received at, source) not logged yet, due
    `due_within_months` after receipt."""
    if not requests:
        return
    with stores.connect("audit") as con:
        con.execute(SCHEMA)
        con.executemany(
            """insert or ignore into request_log (request_id, request_type, source,
                received_at, due_by, status, policy_version)
            values (?, ?, ?, ?, ?::timestamptz + to_months(?), 'open', ?)""",
            [
                [
                    request_id,
                    request_type,
                    source,
                    received_at,
                    received_at,
                    policy.load().due_within_months,
                    audit.policy_version(),
                ]
                for request_id, request_type, received_at, source in requests
            ],
        )


@dataclass(frozen=True)
class Closing:
    request_id: str
    status: str  # done | refused
    counts: dict[str, Any] | None = None
    reason: str | None = None


def finish(
    request_id: str,
    status: str,
    *,
    started_at: datetime,
    counts: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Close one request (see `finish_many`)."""
    finish_many([Closing(request_id, status, counts, reason)], started_at=started_at)


def finish_many(closings: list[Closing], *, started_at: datetime) -> None:
    """Close requests as `done` or `refused`, with their counts or the reason, and leave
    the matching entries in the audit log."""
    for closing in closings:
        if closing.status not in STATUSES[1:]:
            raise ValueError(f"a request closes as done or refused, not {closing.status!r}")
    if not closings:
        return
    now = datetime.now(UTC)
    with stores.connect("audit") as con:  # held open: each audit write below reuses it
        con.execute(SCHEMA)
        con.begin()  # the log's rows in one commit
        kinds = []
        for closing in closings:
            request_type = con.execute(
                """update request_log set status = ?, completed_at = ?, counts = ?,
                    reason = ?, policy_version = ?
                where request_id = ? returning request_type""",
                [
                    closing.status,
                    now,
                    json.dumps(closing.counts or {}, sort_keys=True, default=str),
                    closing.reason,
                    audit.policy_version(),
                    closing.request_id,
                ],
            ).fetchone()
            if request_type is None:
                con.rollback()
                raise ValueError(
                    f"request {closing.request_id} is not in the request log; receive it first"
                )
            kinds.append(request_type[0])
        con.commit()
        for closing, kind in zip(closings, kinds, strict=True):
            _audit(closing, kind, started_at)


def _audit(closing: Closing, request_type: str, started_at: datetime) -> None:
    counts = closing.counts or {}
    per_table = [
        {
            "outcome": closing.status,
            "store": label.split(".", 1)[0],
            "table_name": label.split(".", 1)[1],
            "rows_affected": sum(n for n in rows.values() if isinstance(n, int)),
            "detail": rows,
        }
        for label, rows in counts.get("tables", {}).items()
    ]
    overall = {k: v for k, v in counts.items() if k != "tables"}
    detail = {"reason": closing.reason} if closing.reason else overall
    audit.record_many(
        closing.request_id,
        f"subject_request_{request_type}",
        [*per_table, {"outcome": closing.status, "detail": detail}],
        started_at=started_at,
    )


def closed_ids() -> set[str]:
    """Requests already answered (done or refused)."""
    if not stores.store_path("audit").exists():
        return set()
    with stores.connect("audit") as con:
        con.execute(SCHEMA)
        rows = con.execute("select request_id from request_log where status <> 'open'").fetchall()
    return {request_id for (request_id,) in rows}


def entries(status: str | None = None) -> list[dict[str, Any]]:
    """The log, newest first, with the whole days left until each open request is due
    (negative when overdue)."""
    if not stores.store_path("audit").exists():
        return []
    with stores.connect("audit") as con:
        con.execute(SCHEMA)
        rows = con.execute(
            """select request_id, request_type, source, received_at, due_by, status,
                completed_at, counts, reason, policy_version,
                case when status = 'open'
                    then datediff('day', current_date, due_by::date) end as days_left
            from request_log where ? is null or status = ?
            order by received_at desc""",
            [status, status],
        )
        names = [d[0] for d in rows.description]
        found = [dict(zip(names, row, strict=True)) for row in rows.fetchall()]
    for entry in found:
        entry["counts"] = json.loads(entry["counts"]) if entry["counts"] else None
    return found

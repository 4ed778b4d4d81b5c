"""Receiving and answering requests: one made now (CLI, a manual DAG run) or the pending
rows of `raw.subject_requests` (loaded from the request extract). Each is logged when
received, checked (the student id's form first: it is user input), carried out, and
closed as done with its counts or refused with the reason. A request that fails for
another reason stays open and is tried again on the next run; every step is safe to
repeat."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward import audit, stores
from steward.requests import access, consent, erase, log, rectify
from steward.requests.policy import CONSENT, REQUEST_TYPES, RequestRefused, identifier
from steward.requests.policy import field as rectifiable_field
from steward.requests.subject import table_exists

logger = logging.getLogger(__name__)

# Kinds that change data the warehouse is built from: the next dbt build must follow.
CHANGES_DATA = {"erasure", "rectification", CONSENT}


@dataclass
class Outcome:
    request_id: str
    request_type: str
    status: str  # done | refused
    counts: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def submit(
    request_type: str,
    student_id: str,
    *,
    field_name: str | None = None,
    value: str | None = None,
    received_at: datetime | None = None,
    request_id: str | None = None,
    source: str = "cli",
    out: Path | None = None,
) -> Outcome:
    """Log, carry out and close one request. Refusals are outcomes; other errors leave
    the request open and propagate."""
    if request_type not in REQUEST_TYPES:
        raise ValueError(f"request type must be one of {', '.join(REQUEST_TYPES)}")
    started = datetime.now(UTC)
    received_at = received_at or started
    request_id = request_id or audit.new_run_id("request")
    log.receive(request_id, request_type, received_at, source)
    try:
        identifier(request_id, "request id")  # it names the export folder
        student = identifier(student_id, "student id")
        counts = _carry_out(request_type, request_id, student, field_name, value, received_at, out)
    except RequestRefused as refused:
        log.finish(request_id, "refused", started_at=started, reason=str(refused))
        logger.info("request %s (%s) refused: %s", request_id, request_type, refused)
        return Outcome(request_id, request_type, "refused", reason=str(refused))
    log.finish(request_id, "done", started_at=started, counts=counts)
    logger.info("request %s (%s) done", request_id, request_type)
    return Outcome(request_id, request_type, "done", counts)


def _carry_out(
    request_type: str,
    request_id: str,
    student_id: str,
    field_name: str | None,
    value: str | None,
    received_at: datetime,
    out: Path | None,
) -> dict[str, Any]:
    if request_type == "access":
        return access.export(request_id, student_id, out)
    if request_type == "erasure":
        return erase.erase(request_id, student_id)
    if request_type == "rectification":
        return rectify.rectify(
            request_id, student_id, rectifiable_field(field_name), value or "", received_at
        )
    return consent.change(request_id, student_id, field_name or "", value or "", received_at)


def pending() -> list[dict[str, Any]]:
    """Rows of `raw.subject_requests` not yet answered, oldest first (the latest row of a
    request id wins, as a resent extract may correct one)."""
    if not stores.store_path("identified").exists():
        return []
    with stores.connect("identified", read_only=True) as con:
        if not table_exists(con, "raw.subject_requests"):
            return []
        result = con.execute(
            """select request_id, student_id, request_type, field, new_value, received_at
            from raw.subject_requests
            qualify row_number() over (partition by trim(request_id)
                                       order by _loaded_at desc, _line desc) = 1
            order by received_at, request_id"""
        )
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    closed = log.closed_ids()
    return [r for r in rows if r["request_id"].strip() not in closed]


def process_pending() -> dict[str, Any]:
    """Answer every pending request; returns counts by kind and outcome. Raises at the end
    (naming the request ids) if any failed, so that the run is retried."""
    outcomes, failed = [], []
    for row in pending():
        try:
            outcomes.append(
                submit(
                    row["request_type"],
                    row["student_id"],
                    field_name=row["field"],
                    value=row["new_value"],
                    received_at=row["received_at"],
                    request_id=row["request_id"].strip(),
                    source="extract",
                )
            )
        except Exception:
            logger.exception("request %s failed; it stays open", row["request_id"])
            failed.append(row["request_id"])
    summary = summarise(outcomes)
    if failed:
        raise RuntimeError(
            f"{len(failed)} request(s) failed and stay open: {', '.join(failed)}; "
            f"{summary['handled']} others were answered"
        )
    return summary


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    return {
        "handled": len(outcomes),
        "by_status": dict(Counter(o.status for o in outcomes)),
        "by_type": dict(Counter(o.request_type for o in outcomes)),
        "request_ids": [o.request_id for o in outcomes],
        "changes_data": any(
            o.status == "done" and o.request_type in CHANGES_DATA for o in outcomes
        ),
    }

"""Receiving and answering requests: one made now (CLI, a manual DAG run) or the pending
rows of `raw.subject_requests` (loaded from the request extract), answered together as a
batch (one request is a batch of one). Each is logged when received, checked (the student
id's form first: it is user input), carried out, and closed as done with its own counts
or refused with its reason. A request that fails for another reason stays open, while the
others finish, and is tried again on the next run; every step is safe to repeat."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
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


@dataclass(frozen=True)
class Request:
    request_id: str
    request_type: str
    student_id: str | None  # as given: checked before use
    field_name: str | None = None
    value: str | None = None
    received_at: datetime | None = None
    source: str = "cli"


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
    """Log, carry out and close one request (a batch of one). Refusals are outcomes;
    other errors leave the request open and propagate."""
    request = Request(
        request_id or audit.new_run_id("request"),
        request_type,
        student_id,
        field_name,
        value,
        received_at or datetime.now(UTC),
        source,
    )
    (answered,) = answer([request], out)
    if isinstance(answered, Exception):
        raise answered
    return answered


def answer(requests: list[Request], out: Path | None = None) -> list[Outcome | Exception]:
    """Log, carry out and close requests, in order; per request its outcome, or the error
    that leaves it open. Requests are carried out in batches (each kind's work done once
    for all the batch's students) that hold no student twice, so that what one request
    about a student finds is what the earlier ones left, as when answered one by one."""
    started = datetime.now(UTC)
    results: dict[str, dict[str, Any] | Exception] = {}
    known = []
    for request in requests:
        if request.request_type in REQUEST_TYPES:
            known.append(request)
        else:
            results[request.request_id] = ValueError(
                f"request type must be one of {', '.join(REQUEST_TYPES)}"
            )
    log.receive_many(
        [(r.request_id, r.request_type, r.received_at or started, r.source) for r in known]
    )
    checked = []
    for request in known:
        try:
            identifier(request.request_id, "request id")  # it names the export folder
            student = identifier(request.student_id, "student id")
        except RequestRefused as refused:
            results[request.request_id] = refused
            continue
        checked.append(
            replace(request, student_id=student, received_at=request.received_at or started)
        )
    for batch in _batches(checked):
        results.update(_carry_out(batch, out))
    answered: list[Outcome | Exception] = []
    closings = []
    for request in requests:
        result = results[request.request_id]
        kind = request.request_type
        if isinstance(result, RequestRefused):
            answered.append(Outcome(request.request_id, kind, "refused", reason=str(result)))
            logger.info("request %s (%s) refused: %s", request.request_id, kind, result)
        elif isinstance(result, Exception):
            answered.append(result)
            continue
        else:
            answered.append(Outcome(request.request_id, kind, "done", result))
            logger.info("request %s (%s) done", request.request_id, kind)
        closing = answered[-1]
        closings.append(
            log.Closing(closing.request_id, closing.status, closing.counts, closing.reason)
        )
    log.finish_many(closings, started_at=started)
    return answered


def _batches(requests: list[Request]) -> list[list[Request]]:
    """Consecutive runs of requests in which no student comes twice."""
    batches: list[list[Request]] = [[]]
    for request in requests:
        if any(r.student_id == request.student_id for r in batches[-1]):
            batches.append([])
        batches[-1].append(request)
    return [b for b in batches if b]


def _carry_out(batch: list[Request], out: Path | None) -> dict[str, dict[str, Any] | Exception]:
    """Each kind's requests of a batch together, reads before changes; a kind that fails
    as a whole leaves its requests open, and the other kinds still run."""
    kinds = {kind: [r for r in batch if r.request_type == kind] for kind in REQUEST_TYPES}
    steps = [
        (kinds["access"], lambda rs: access.export_many(_students(rs), out)),
        (kinds["erasure"], lambda rs: erase.erase_many(_students(rs))),
        (kinds["rectification"] + kinds[CONSENT], _record_all),
    ]
    results: dict[str, dict[str, Any] | Exception] = {}
    for requests, step in steps:
        if requests:
            try:
                results |= step(requests)
            except Exception as error:
                results |= {r.request_id: error for r in requests}
    return results


def _students(requests: list[Request]) -> list[tuple[str, str]]:
    return [(r.request_id, r.student_id) for r in requests]


def _record_all(requests: list[Request]) -> dict[str, dict[str, Any] | Exception]:
    """Rectifications and consent changes, recorded in one connection to the identified
    store; one that fails leaves the others recorded."""
    results: dict[str, dict[str, Any] | Exception] = {}
    with stores.connect("identified") as con:
        for r in requests:
            try:
                if r.request_type == "rectification":
                    field = rectifiable_field(r.field_name)
                    results[r.request_id] = rectify.rectify(
                        con, r.request_id, r.student_id, field, r.value or "", r.received_at
                    )
                else:
                    results[r.request_id] = consent.change(
                        con,
                        r.request_id,
                        r.student_id,
                        r.field_name or "",
                        r.value or "",
                        r.received_at,
                    )
            except Exception as error:
                results[r.request_id] = error
    return results


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
    requests = [
        Request(
            row["request_id"].strip(),
            row["request_type"],
            row["student_id"],
            row["field"],
            row["new_value"],
            row["received_at"],
            "extract",
        )
        for row in pending()
    ]
    outcomes, failed = [], []
    for request, answered in zip(requests, answer(requests), strict=True):
        if isinstance(answered, Exception):
            logger.error("request %s failed; it stays open", request.request_id, exc_info=answered)
            failed.append(request.request_id)
        else:
            outcomes.append(answered)
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

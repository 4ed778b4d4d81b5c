"""`steward request ...`: carry out a student's request now, answer the pending ones from
the request extract, or show the request log."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

ACTIONS = {  # command -> request type
    "access": "access",
    "erase": "erasure",
    "rectify": "rectification",
    "consent": "consent",
}


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text}: give a UTC offset, e.g. {text}+00:00")
    return moment


def cmd_request(args: argparse.Namespace) -> int:
    from steward.requests import handle, log

    if args.action == "pending":
        print(json.dumps(handle.process_pending(), indent=2, default=str))
        return 0
    if args.action == "log":
        print(json.dumps(log.entries(args.status), indent=2, default=str))
        return 0
    field_name, value = args.field, args.value
    if args.action == "consent":
        field_name, value = args.purpose, args.consent_action
    outcome = handle.submit(
        ACTIONS[args.action],
        args.student,
        field_name=field_name,
        value=value,
        received_at=args.received_at,
        source="cli",
        out=Path(args.out) if args.out else None,
    )
    print(json.dumps(outcome.as_dict(), indent=2, default=str))
    if outcome.status == "refused":
        print(f"steward request {args.action}: refused: {outcome.reason}", file=sys.stderr)
        return 3
    return 0


def add_request_parser(sub: argparse._SubParsersAction) -> None:
    req = sub.add_parser(
        "request",
        help="a student's request: access, erase, rectify, consent; pending; log",
        description="Carry out a student's request across every zone and log it (request "
        "log in the audit store: ids, dates and counts, never the student). Exit code 3 "
        "when the request is refused; the reason is printed and logged.",
    )
    actions = req.add_subparsers(dest="action", required=True, metavar="ACTION")

    def student_request(name: str, help_text: str) -> argparse.ArgumentParser:
        parser = actions.add_parser(name, help=help_text)
        parser.add_argument("--student", required=True, help="the student id")
        parser.add_argument(
            "--received-at",
            type=_moment,
            default=None,
            help="when the student made the request (ISO 8601 with offset; default now)",
        )
        parser.set_defaults(func=cmd_request, field=None, value=None, out=None)
        return parser

    acc = student_request("access", "export everything held about the student (zip + page)")
    acc.add_argument("--out", help="also copy the zip and the page into this folder")
    student_request("erase", "erase the student everywhere except the statutory record")
    rect = student_request("rectify", "record a correction, applied on the next dbt build")
    rect.add_argument("--field", required=True, help="e.g. postcode or POSTCODE")
    rect.add_argument("--value", required=True, help="the corrected value")
    con = student_request("consent", "grant or withdraw consent for a purpose")
    con.add_argument("--purpose", required=True, help="e.g. intervention")
    con.add_argument(
        "--action", dest="consent_action", required=True, choices=["grant", "withdraw"]
    )

    pend = actions.add_parser("pending", help="answer the pending rows of raw.subject_requests")
    pend.set_defaults(func=cmd_request)
    show = actions.add_parser("log", help="the request log, newest first, with days left")
    show.add_argument("--status", choices=["open", "done", "refused"])
    show.set_defaults(func=cmd_request)

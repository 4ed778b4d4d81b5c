"""`steward sweep [--dry-run] [--as-of DATE] [--approve]`; `cli.py` wires it with
``add_sweep_parser(sub)``."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any


def _table(summary: dict[str, Any]) -> str:
    """Store, table, action and rows due (and changed, unless nothing was applied)."""
    changed = {(s["store"], s["table"]): s["rows"] for s in summary["applied"]}
    rows = [
        (
            s["store"],
            s["table"],
            s["action"],
            f"{s['rows']:,}",
            f"{changed.get((s['store'], s['table']), 0):,}",
        )
        for s in summary["planned"]
        if s["rows"] or changed.get((s["store"], s["table"]))
    ]
    header = ("store", "table", "action", "rows due", "rows changed")
    if summary["outcome"] != "success":
        header, rows = header[:4], [r[:4] for r in rows]
    if not rows:
        return f"nothing is due as of {summary['as_of']}"
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    numeric = {3, 4}
    lines = [
        "  ".join(
            str(c).rjust(w) if i in numeric else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in (header, *rows)
    ]
    return "\n".join(lines)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Exit 0 when the sweep completed (or the dry run was planned), 1 when it awaits approval."""
    from steward.retention.sweep import sweep

    summary = sweep(args.as_of, dry_run=args.dry_run, approved=args.approve, progress=print)
    print(_table(summary))
    verb = "would change" if summary["outcome"] != "success" else "changed"
    rows = summary["rows_due"] if summary["outcome"] != "success" else summary["rows_changed"]
    print(
        f"{summary['run_id']}: {summary['outcome']}; {verb} {rows:,} rows and files as of {summary['as_of']}"
    )
    if summary["outcome"] == "awaiting_approval":
        print(
            "the retention policy asks a steward to approve this sweep: run it again with "
            "--approve, or approve the retention_sweep DAG's task in the Airflow UI"
        )
        return 1
    return 0


def add_sweep_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "sweep",
        help="delete or anonymise what the retention policy says is due",
        description="Plan, apply and verify a retention sweep over every store and the "
        "landing and export folders, as include/policies/data.yaml says (per category: "
        "period, anchor, delete or anonymise; grades and outcomes are kept). Data of a "
        "student enrolled on a running module is never swept. Each step is recorded in "
        "the audit store.",
    )
    parser.add_argument("--dry-run", action="store_true", help="print what is due; change nothing")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the sweep's date, YYYY-MM-DD (default: today, UTC)",
    )
    parser.add_argument(
        "--approve",
        action="store_true",
        help="approve the sweep when the policy asks a steward to (retention.approval)",
    )
    parser.set_defaults(func=cmd_sweep)

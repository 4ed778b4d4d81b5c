"""`steward release [--dry-run]` and `steward risk measure FILE --qi A,B --sa S`.

`cli.py` wires them with ``add_release_parser(sub)`` and ``add_risk_parser(sub)``.
"""

from __future__ import annotations

import argparse
import json
import sys


def cmd_release(args: argparse.Namespace) -> int:
    """Exit 0 when every release was published (or would be), 1 when any is blocked."""
    from steward.release import run_release

    summary = run_release(dry_run=args.dry_run, policy_path=args.policy)
    print(json.dumps(summary, indent=2))
    blocked = summary.get("would_block") if args.dry_run else summary.get("blocked")
    return 1 if blocked else 0


def add_release_parser(sub: argparse._SubParsersAction) -> None:
    release = sub.add_parser(
        "release",
        help="gate the analyst releases and publish those that pass",
        description="Build every release declared in include/policies/releases.yaml from "
        "the warehouse, measure and generalise it, check releases jointly, and publish "
        "the passing ones into a new analyst.duckdb (blocked releases keep their previous "
        "version). Risk reports go to $STEWARD_HOME/reports/releases/. Exit 1 when a "
        "release is blocked.",
    )
    release.add_argument(
        "--dry-run", action="store_true", help="judge every release; write nothing"
    )
    release.add_argument(
        "--policy",
        default=None,
        help="release policy file (default: include/policies/releases.yaml)",
    )
    release.set_defaults(func=cmd_release)


def _columns(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def cmd_risk_measure(args: argparse.Namespace) -> int:
    from steward.release.policy import load_policy
    from steward.risk import RiskInputError, measure_source

    k = args.k if args.k is not None else load_policy().defaults.k
    try:
        result = measure_source(
            args.file,
            _columns(args.qi),
            _columns(args.sa),
            k=k,
            table=args.table,
            delimiter=args.delimiter,
        )
    except RiskInputError as exc:
        print(f"steward risk measure: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2))
    return 0


def add_risk_parser(sub: argparse._SubParsersAction) -> None:
    risk = sub.add_parser("risk", help="measure re-identification risk of a file")
    actions = risk.add_subparsers(dest="risk_command", required=True, metavar="ACTION")
    measure = actions.add_parser(
        "measure",
        help="k, l, t and records at risk of a CSV, Parquet or DuckDB table",
        description='Prints JSON {"rows", "k", "l_distinct", "l_entropy", "t_closeness", '
        '"records_at_risk", ...}. Exit 2 on bad input, with the file and field named.',
    )
    measure.add_argument("file", help="CSV (delimiter sniffed), Parquet or DuckDB database")
    measure.add_argument("--qi", required=True, help="quasi-identifiers, comma-separated")
    measure.add_argument("--sa", default=None, help="sensitive attributes, comma-separated")
    measure.add_argument(
        "--k", type=int, default=None, help="k behind records_at_risk (default: release policy)"
    )
    measure.add_argument("--table", default=None, help="table to measure in a DuckDB file")
    measure.add_argument("--delimiter", default=None, help="CSV delimiter (default: sniffed)")
    measure.set_defaults(func=cmd_risk_measure)

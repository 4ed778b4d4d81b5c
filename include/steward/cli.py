"""The `steward` command: the platform's command-line contract (see ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

# The demo institution: `steward demo` makes it, `steward up` when the stores are empty.
DEMO_STUDENTS = 300
DEMO_SEED = 7


def _progress(message: str) -> None:
    print(message, flush=True)


def cmd_generate(args: argparse.Namespace) -> int:
    from steward.sources.generator import generate

    summary = generate(
        Path(args.out),
        args.students,
        args.seed,
        vle_statements=args.statements,
        as_of=args.as_of,
        progress=_progress,
    )
    print(json.dumps(summary, indent=2, default=str))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from steward.ingest import ingest

    ingest([Path(p) for p in args.paths], progress=_progress)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from steward.demo import run_demo

    return run_demo(students=args.students, seed=args.seed, progress=_progress)


def cmd_up(args: argparse.Namespace) -> int:
    from steward.up import run_up

    return run_up(port=args.port, students=args.students, seed=args.seed, progress=_progress)


def cmd_policy(args: argparse.Namespace) -> int:
    from steward import data_policy

    if args.action == "dbt-sources":
        print(f"written {data_policy.write_dbt_sources()}")
        return 0
    if args.action == "dbt-exposures":
        from steward.release.exposures import write_dbt_exposures

        print(f"written {write_dbt_exposures()}")
        return 0
    problems = data_policy.problems()
    for problem in problems:
        print(problem)
    print("policy is consistent" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


def cmd_pseudonym(args: argparse.Namespace) -> int:
    from steward import pseudonym

    if args.action == "refresh":
        print(json.dumps(pseudonym.refresh_identity_map()))
        return 0
    new_key = pseudonym.load_key(getter=lambda: None)
    print(
        f"re-pseudonymised {pseudonym.rotate(new_key):,} identifiers with the key in "
        f"${pseudonym.KEY_ENV}; run transform_warehouse to rebuild the warehouse"
    )
    return 0


def cmd_dbt_parse(args: argparse.Namespace) -> int:
    from steward import dbt

    print(f"written {dbt.parse()}")
    return 0


def cmd_pii_scan_text(args: argparse.Namespace) -> int:
    from steward.pii import PiiInputError, scan_text_file

    try:
        counts = scan_text_file(args.input, args.output, args.batch_size, args.processes)
    except PiiInputError as exc:
        raise ValueError(str(exc)) from exc
    print(json.dumps(counts))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from steward import report

    summary = report.publish(Path(args.out) if args.out else None)
    print(json.dumps(summary, indent=2))
    return 0


def cmd_pii_scan_columns(args: argparse.Namespace) -> int:
    from steward.pii.columns import check_store

    for store in args.stores:
        print(json.dumps({"store": store, **check_store(store)}))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from steward.status import status

    print(json.dumps(status(), indent=2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="steward",
        description="Learning analytics stewardship platform. Data lives under $STEWARD_HOME "
        "(default ./.steward).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="write a synthetic institution's extracts")
    gen.add_argument("--students", type=int, required=True, help="number of students")
    gen.add_argument("--seed", type=int, default=1, help="random seed (same seed, same files)")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--statements", type=int, default=None, help="VLE statements in total")
    gen.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date(2026, 11, 1),
        help="the institution's 'today': nothing is dated later (default 2026-11-01)",
    )
    gen.set_defaults(func=cmd_generate)

    ing = sub.add_parser("ingest", help="land a folder (or files) of extracts")
    ing.add_argument("paths", nargs="+", help="files or folders; format detected per file")
    ing.set_defaults(func=cmd_ingest)

    demo = sub.add_parser("demo", help="generate an institution and run every DAG in Airflow")
    demo.add_argument("--students", type=int, default=DEMO_STUDENTS)
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.set_defaults(func=cmd_demo)

    up = sub.add_parser(
        "up",
        help="run Airflow standalone with our DAGs and print the login; "
        "runs the demo first when the stores are empty",
    )
    up.add_argument("--port", type=int, default=8080)
    up.add_argument("--students", type=int, default=DEMO_STUDENTS, help="demo size if empty")
    up.add_argument("--seed", type=int, default=DEMO_SEED)
    up.set_defaults(func=cmd_up)

    pol = sub.add_parser(
        "policy", help="check the column policy, or regenerate dbt sources or exposures"
    )
    pol.add_argument("action", choices=["check", "dbt-sources", "dbt-exposures"])
    pol.set_defaults(func=cmd_policy)

    pse = sub.add_parser(
        "pseudonym",
        help="refresh the identity map, or rotate the key",
        description="`rotate` re-pseudonymises every subject with the key now in "
        "$STEWARD_PSEUDONYM_KEY (set it to the NEW key first); releases made before are "
        "no longer linkable to the warehouse.",
    )
    pse.add_argument("action", choices=["refresh", "rotate"])
    pse.set_defaults(func=cmd_pseudonym)

    dbt_parse = sub.add_parser("dbt-parse", help="write the dbt manifest the DAGs render from")
    dbt_parse.set_defaults(func=cmd_dbt_parse)

    pii = sub.add_parser("pii", help="find PII in free text (Presidio, UK recognisers)")
    pii_sub = pii.add_subparsers(dest="action", required=True, metavar="ACTION")
    scan = pii_sub.add_parser("scan-text", help='{"id","text"} lines -> {"id","spans":[...]} lines')
    scan.add_argument("input", help="JSON lines with id and text")
    scan.add_argument("output", help="JSON lines with id and the spans found")
    scan.add_argument("--batch-size", type=int, default=None, help="texts per spaCy batch")
    scan.add_argument("--processes", type=int, default=None, help="spaCy worker processes")
    scan.set_defaults(func=cmd_pii_scan_text)
    columns = pii_sub.add_parser(
        "scan-columns",
        help="classify every column of the stores; fail on PII their declarations lack",
        description="Findings go to pii_findings in the audit store (shares, never values).",
    )
    columns.add_argument(
        "stores",
        nargs="*",
        choices=["identified", "warehouse", "analyst"],
        default=["identified", "warehouse", "analyst"],
    )
    columns.set_defaults(func=cmd_pii_scan_columns)

    from steward.model.cli import add_model_parser
    from steward.release import add_release_parser, add_risk_parser
    from steward.requests.cli import add_request_parser
    from steward.retention.cli import add_sweep_parser

    add_risk_parser(sub)
    add_release_parser(sub)
    add_model_parser(sub)
    add_request_parser(sub)
    add_sweep_parser(sub)

    rep = sub.add_parser(
        "report",
        help="write the transparency report (Markdown and HTML) from policy, dbt docs and model card",
    )
    rep.add_argument("--out", default=None, help="folder (default $STEWARD_HOME/reports)")
    rep.set_defaults(func=cmd_report)

    stat = sub.add_parser("status", help="JSON summary of stores, last runs, open requests")
    stat.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"steward {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

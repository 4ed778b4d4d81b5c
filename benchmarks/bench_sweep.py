"""The retention sweep (`steward sweep`) over 20 million VLE events of which 20% are past
their period (goal: under 30 s), with the running-module guard in play: a fifth of the
students are on a presentation running on the sweep date.

The identified zone is built synthetically in DuckDB (`range()`), in the canonical raw
schema: presentations, enrolments and events. Timed: a dry run (plan only), then the
sweep itself (plan, apply in one transaction, verify, audit), and a second sweep on the
same day (nothing due).

    .venv/bin/python benchmarks/bench_sweep.py [--rows 20000000] [--expired 0.2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mib, save, table, timed  # noqa: E402

AS_OF = date(2030, 1, 1)
STUDENTS = 50_000
PRESENTATIONS = 50  # 40 ended long ago, 10 running on AS_OF


def build(rows: int, expired: float) -> None:
    """Presentations, enrolments and `rows` events; `expired` of them before the VLE
    period's cutoff, all from students on ended presentations only."""
    from steward import stores
    from steward.ingest import create_schema
    from steward.retention import policy

    cutoff = policy.retentions()["vle_activity"].period.cutoff(AS_OF)
    old, recent = cutoff - timedelta(days=400), cutoff + timedelta(days=30)
    running = PRESENTATIONS // 5 * 4  # presentations from here on are running
    old_rows = int(rows * expired)
    with stores.connect("identified") as con:
        create_schema(con)
        con.execute(
            """insert into raw.module_instances (module_instance_id, module_id, start_date, end_date)
            select 'MI' || i, 'M' || i,
                case when i < ? then date '2026-10-01' else ?::date - 60 end,
                case when i < ? then date '2027-06-01' else ?::date + 120 end
            from range(?) r(i)""",
            [running, AS_OF, running, AS_OF, PRESENTATIONS],
        )
        # a fifth of the students are enrolled on a running presentation
        con.execute(
            """insert into raw.enrolments (enrolment_id, student_id, module_instance_id)
            select 'E' || s, 'S' || s,
                'MI' || case when s % 5 = 0 then ? + s % ? else s % ? end
            from range(?) r(s)""",
            [running, PRESENTATIONS - running, running, STUDENTS],
        )
        con.execute(
            """insert into raw.vle_events (statement_id, student_id, verb_iri, verb, object_type,
                module_instance_id, occurred_at, platform, event_count, source_format)
            select 'st' || i,
                -- old events only from students off running presentations (s % 5 <> 0)
                'S' || case when i < ? then (i % (? * 4 // 5)) // 4 * 5 + (i % 4) + 1 else i % ? end,
                'http://id.tincanapi.com/verb/viewed', 'viewed', 'resource', 'MI' || (i % ?),
                case when i < ?
                    then ?::timestamptz + to_seconds(i % 31536000)
                    else ?::timestamptz + to_seconds(i % 31536000) end,
                'moodle', 1, 'synthetic'
            from range(?) r(i)""",
            [old_rows, STUDENTS, STUDENTS, PRESENTATIONS, old_rows, old, recent, rows],
        )
        con.execute("checkpoint")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument(
        "--expired", type=float, default=0.2, help="share of rows past their period"
    )
    parser.add_argument("--keep", help="build in this folder and keep it")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-sweep-"))
    os.environ["STEWARD_HOME"] = str(work / "home")

    from steward import stores
    from steward.retention.sweep import sweep

    results: dict = {"rows": args.rows, "expired_share": args.expired, "as_of": AS_OF.isoformat()}
    with timed(results, "build_seconds"):
        build(args.rows, args.expired)
    quiet = {"progress": lambda _message: None}
    with timed(results, "dry_run_seconds"):
        planned = sweep(AS_OF, dry_run=True, **quiet)
    with timed(results, "sweep_seconds"):
        swept = sweep(AS_OF, **quiet)
    with timed(results, "second_sweep_seconds"):
        again = sweep(AS_OF, **quiet)
    with stores.connect("identified", read_only=True) as con:
        left = con.execute("select count(*) from raw.vle_events").fetchone()[0]
    due = next(s["rows"] for s in planned["planned"] if s["table"] == "raw.vle_events")
    results |= {
        "rows_due": due,
        "rows_deleted": swept["rows_changed"],
        "rows_left": left,
        "second_sweep_rows_changed": again["rows_changed"],
        "outcome": swept["outcome"],
        "goal_seconds": 30,
        "goal_met": results["sweep_seconds"] < 30,
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }
    if due != int(args.rows * args.expired) or left != args.rows - due:
        raise SystemExit(f"benchmark data is not as designed: {due:,} due, {left:,} left")
    path = save("sweep", results)
    print(
        table(
            [
                ("VLE rows", f"{args.rows:,}"),
                ("rows due (deleted)", f"{swept['rows_changed']:,}"),
                ("build (synthetic)", f"{results['build_seconds']:.1f} s"),
                ("dry run (plan)", f"{results['dry_run_seconds']:.1f} s"),
                ("sweep (plan, apply, verify, audit)", f"{results['sweep_seconds']:.1f} s"),
                ("second sweep (nothing due)", f"{results['second_sweep_seconds']:.1f} s"),
                ("goal", "under 30 s: " + ("met" if results["goal_met"] else "NOT met")),
                ("peak memory", f"{results['peak_rss_mib']:.0f} MiB"),
            ]
        )
    )
    print(f"written {path}")


if __name__ == "__main__":
    main()

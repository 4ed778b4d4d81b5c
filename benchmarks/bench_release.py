"""The release gate (`steward release`): wall time of judging every release in the policy
(build from the warehouse, measure, generalise, re-measure, cell suppression, linkage)
and of publishing into a new analyst store, with peak memory.

    .venv/bin/python benchmarks/bench_release.py [--students 5000] [--keep DIR]
    .venv/bin/python benchmarks/bench_release.py --home DIR   # a STEWARD_HOME already built
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mib, save, table, timed  # noqa: E402


def build(home: Path, work: Path, students: int) -> None:
    from steward import dbt, pseudonym
    from steward.ingest import ingest
    from steward.sources.generator import generate

    generated = work / "institution"
    if not generated.exists():
        generate(generated, students, seed=11)
    ingest([generated], progress=lambda _m: None)
    pseudonym.refresh_identity_map()
    dbt.run("build")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=5_000)
    parser.add_argument("--keep", help="reuse or keep the built institution in this folder")
    parser.add_argument("--home", help="a STEWARD_HOME with warehouse.duckdb to copy from")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-release-"))
    home = work / "home"
    os.environ["STEWARD_HOME"] = str(home)
    os.environ.setdefault("STEWARD_PSEUDONYM_KEY", "benchmark-only-key-0123456789abcdefghijkl")
    if args.home:
        home.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(args.home) / "warehouse.duckdb", home / "warehouse.duckdb")
    built = not args.home and not (home / "warehouse.duckdb").exists()
    if built:
        build(home, work, args.students)

    from steward.release.gate import assess
    from steward.release.policy import load_policy
    from steward.release.publish import publish, staging_path

    policy = load_policy()
    results: dict = {}
    run_id = "release-benchmark"
    started_at = datetime.now(UTC)
    with timed(results, "assess_seconds"):
        outcomes = assess(policy, staging_path(run_id))
    with timed(results, "publish_seconds"):
        publish(run_id, outcomes, started_at)
    results["peak_rss_mib"] = round(peak_rss_mib(), 1)
    # Generating and ingesting in this process raise the peak: rerun with --keep to see
    # the gate's own.
    results["peak_includes_build"] = built
    results["releases"] = {
        o["name"]: {
            "kind": o["kind"],
            "passed": o["passed"],
            "rows_before": o["rows_before"],
            "rows_published": o["rows_published"],
        }
        for o in outcomes
    }
    path = save("release", results)
    rows = [
        ("assess (all releases)", f"{results['assess_seconds']:.2f} s"),
        ("publish (new store, swap, reports)", f"{results['publish_seconds']:.2f} s"),
        (
            "peak memory" + (" (with the build)" if built else ""),
            f"{results['peak_rss_mib']:.0f} MiB",
        ),
    ]
    rows += [
        (f"  {name} ({r['kind']})", f"{r['rows_before']} rows in, {r['rows_published']} out")
        for name, r in results["releases"].items()
    ]
    print(table(rows))
    print(f"written {path}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""dbt build of the warehouse: wall time and peak memory, beside the same compiled SQL run
directly in DuckDB in the same run (the orchestration overhead dbt adds).
Goal: dbt at most 1.5x the direct run plus 10 s.

    .venv/bin/python benchmarks/bench_warehouse.py [--students 50000 --statements 20000000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "dbt_project"


def children_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def direct_run(home: Path, target: Path) -> float:
    """Execute every model's compiled SELECT in dependency order on a fresh database, then
    every data test's query."""
    manifest = json.loads((target / "manifest.json").read_text())
    models = {u: n for u, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    order = TopologicalSorter(
        {u: [d for d in n["depends_on"]["nodes"] if d in models] for u, n in models.items()}
    ).static_order()
    path = home / "direct.duckdb"
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{home / 'identified.duckdb'}' as identified (read_only)")
    start = time.perf_counter()
    for uid in order:
        node = models[uid]
        compiled = (target / "compiled" / "steward" / node["original_file_path"]).read_text()
        # the compiled SQL names the warehouse database; here it is this file's database
        compiled = compiled.replace('"warehouse".', f'"{path.stem}".')
        con.execute(f'create schema if not exists "{node["schema"]}"')
        con.execute(f'create or replace table "{node["schema"]}"."{node["alias"]}" as {compiled}')
    # and every data test's compiled query, as `dbt build` runs them
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("compiled_path"):
            sql = (
                (ROOT / "dbt_project" / node["compiled_path"]).read_text()
                if not Path(node["compiled_path"]).is_absolute()
                else Path(node["compiled_path"]).read_text()
            )
            sql = sql.replace('"warehouse".', f'"{path.stem}".')
            con.execute(f"select count(*) from ({sql})").fetchone()
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--statements", type=int, default=20_000_000)
    parser.add_argument("--keep", help="reuse or keep the institution in this folder")
    args = parser.parse_args()

    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-warehouse-"))
    home = work / "home"
    os.environ["STEWARD_HOME"] = str(home)
    os.environ.setdefault("STEWARD_PSEUDONYM_KEY", "benchmark-only-key-0123456789abcdefghijkl")
    from steward import pseudonym
    from steward.ingest import ingest
    from steward.sources.generator import generate

    results: dict = {"students": args.students, "statements": args.statements}
    if not (home / "identified.duckdb").exists():
        print(f"generating {args.students:,} students, {args.statements:,} statements ...")
        generate(work / "institution", args.students, seed=1, vle_statements=args.statements)
        start = time.perf_counter()
        ingest([work / "institution"], progress=lambda _m: None)
        results["ingest_seconds"] = round(time.perf_counter() - start, 1)
        pseudonym.refresh_identity_map()
    (home / "warehouse.duckdb").unlink(missing_ok=True)

    target = work / "target"
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "build",
        "--project-dir",
        str(PROJECT),
        "--profiles-dir",
        str(PROJECT),
        "--target-path",
        str(target),
        "--log-path",
        str(work / "logs"),
    ]
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    results["dbt_build_seconds"] = round(time.perf_counter() - start, 1)
    results["dbt_peak_rss_mib"] = round(children_peak_mib())
    results["direct_sql_seconds"] = round(direct_run(home, target), 1)
    results["ratio_dbt_to_direct"] = round(
        results["dbt_build_seconds"] / results["direct_sql_seconds"], 2
    )
    results["goal_seconds"] = round(1.5 * results["direct_sql_seconds"] + 10, 1)
    results["meets_goal"] = results["dbt_build_seconds"] <= results["goal_seconds"]
    print(table([(k, str(v)) for k, v in results.items()]))
    print(f"written {save('warehouse', results)}")


if __name__ == "__main__":
    main()

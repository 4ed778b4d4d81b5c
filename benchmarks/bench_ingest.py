"""Ingest throughput: xAPI statements per second through `steward ingest` (frame, map,
validate against the contract, load, quarantine), beside DuckDB's own `read_json` of the
same files in the same run (the machine's raw JSON speed). Goal: at least half.

    .venv/bin/python benchmarks/bench_ingest.py [--statements 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mib, save, table  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--students", type=int, default=2_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        os.environ["STEWARD_HOME"] = str(Path(tmp) / "home")
        from steward.ingest import ingest
        from steward.sources.generator import generate

        out = Path(tmp) / "institution"
        print(f"generating {args.students:,} students and {args.statements:,} statements ...")
        generate(out, args.students, seed=11, vle_statements=args.statements)
        vle_files = sorted((out / "vle").glob("*.jsonl"))
        statements = sum(1 for f in vle_files for _ in f.open("rb"))
        size_mib = sum(f.stat().st_size for f in vle_files) / 2**20

        ingest([out / "udd"], progress=lambda _m: None)

        con = duckdb.connect()
        files = [str(f) for f in vle_files]
        start = time.perf_counter()
        raw_rows = con.execute(
            "select count(*) from read_json(?, format='newline_delimited', records=false)",
            [files],
        ).fetchone()[0]
        # a count alone may skip parsing; materialise the statements like ingest does
        con.execute(
            "create table raw_json as select * from read_json(?, format='newline_delimited', "
            "records=false, ignore_errors=true)",
            [files],
        )
        duckdb_seconds = time.perf_counter() - start
        con.close()

        start = time.perf_counter()
        summary = ingest([out / "vle"], progress=lambda _m: None)
        steward_seconds = time.perf_counter() - start
        totals = summary.totals()

    results = {
        "statements": statements,
        "megabytes": round(size_mib, 1),
        "duckdb_read_json_seconds": round(duckdb_seconds, 2),
        "duckdb_rows": raw_rows,
        "steward_ingest_seconds": round(steward_seconds, 2),
        "steward_rows_loaded": totals["rows_loaded"],
        "steward_rows_quarantined": totals["rows_quarantined"],
        "steward_statements_per_second": round(statements / steward_seconds),
        "duckdb_statements_per_second": round(statements / duckdb_seconds),
        "ratio_of_duckdb_speed": round(duckdb_seconds / steward_seconds, 2),
        "peak_rss_mib": round(peak_rss_mib()),
    }
    print(table([(k, f"{v:,}" if isinstance(v, int) else str(v)) for k, v in results.items()]))
    print(f"written {save('ingest', results)}")


if __name__ == "__main__":
    main()

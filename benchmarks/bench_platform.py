"""The whole platform, stage by stage, at 10,000 and 50,000 students: one table.

    .venv/bin/python benchmarks/bench_platform.py [--students 10000 50000]
        [--statements-per-student 400] [--sweep-as-of 2027-03-01] [--keep DIR]

Each stage runs as the command a user or a DAG task runs (`steward ...` in its own
process, on one generated institution per scale), timed from start to exit, with the
peak resident memory of its process tree (sampled every 0.2 s). For the SQL-bound
stages the same run also times DuckDB scanning the stage's input raw (every column of
every row, nothing else), and reports stage time / raw-scan time (the scan runs just before the stage, on its input): how far the stage is
from the machine's limit for that data.

The stages, in pipeline order: generate, ingest, PII redaction of case notes,
pseudonymise + dbt build, risk gate (release), train, score, access export, erasure,
retention sweep (as of --sweep-as-of, so that part of the data is due). 50,000 students
carry 20 million VLE statements (400 each). The table is printed and written to
`benchmarks/results/platform.json`.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TreeRssSampler, machine_speed, save  # noqa: E402

STEWARD = str(Path(sys.executable).with_name("steward"))
BENCH_KEY = "bench-only-pseudonymisation-key-not-for-real-data"


@dataclass
class Stage:
    name: str
    command: list[str]
    raw_scan: str | None = None  # which inputs the raw DuckDB scan reads


def stages(extracts: Path, student: str, sweep_as_of: str) -> list[Stage]:
    python = [sys.executable, "-c"]
    return [
        Stage("ingest", [STEWARD, "ingest", str(extracts)], raw_scan="landing"),
        Stage(
            "pii redaction",
            [*python, "from steward.pii.case_notes import redact_new_notes; redact_new_notes()"],
        ),
        Stage(
            "dbt build",
            [
                *python,
                "from steward import dbt, pseudonym; pseudonym.refresh_identity_map(); "
                "dbt.run('build')",
            ],
            raw_scan="identified",
        ),
        Stage("risk gate", [STEWARD, "release"], raw_scan="warehouse"),
        Stage("train", [STEWARD, "model", "train", "--force"]),
        Stage("score", [STEWARD, "model", "score"]),
        Stage("access export", [STEWARD, "request", "access", "--student", student]),
        Stage("erasure", [STEWARD, "request", "erase", "--student", student]),
        Stage(
            "sweep",
            [STEWARD, "sweep", "--as-of", sweep_as_of, "--approve"],
            raw_scan="identified+warehouse",
        ),
    ]


def run_stage(name: str, command: list[str], env: dict[str, str], log: Path) -> dict:
    """Run one command; wall time and sampled peak memory of its process tree."""
    print(f"  {name} ...", flush=True)
    with log.open("ab") as out:
        out.write(f"\n== {name}: {' '.join(command)}\n".encode())
        out.flush()
        start = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = TreeRssSampler(proc.pid)
        sampler.start()
        code = proc.wait()
        seconds = time.perf_counter() - start
        peak = sampler.stop()
    if code != 0:
        raise SystemExit(f"stage '{name}' failed with exit code {code}; see {log}")
    return {"seconds": round(seconds, 2), "peak_rss_mib": round(peak / 2**20)}


def raw_scan_seconds(what: str, home: Path, extracts: Path) -> float:
    """DuckDB reading every column of every row of the stage's input, nothing more (a
    hash of every value: a plain max() would be answered from DuckDB's zone maps)."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    start = time.perf_counter()
    if what == "landing":
        readers = {".jsonl": "read_json_objects", ".tsv": "read_csv", ".csv": "read_csv"}
        for path in sorted(extracts.rglob("*")):
            reader = readers.get(path.suffix)
            if reader and "truth" not in path.parts:
                con.execute(
                    f"select sum(hash(columns(*))) from {reader}(?)", [str(path)]
                ).fetchall()
    else:
        for store in what.split("+"):
            con.execute(f"attach '{home / f'{store}.duckdb'}' as s (read_only)")
            tables = con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = 's'"
            ).fetchall()
            for schema, table in tables:
                con.execute(f'select sum(hash(columns(*))) from s."{schema}"."{table}"').fetchall()
            con.execute("detach s")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def first_student(extracts: Path) -> str:
    with (extracts / "udd" / "student.tsv").open(newline="") as handle:
        return next(csv.DictReader(handle, delimiter="\t"))["STUDENT_ID"]


def bench_scale(students: int, per_student: int, sweep_as_of: str, work: Path) -> dict:
    extracts, home = work / "institution", work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "STEWARD_HOME": str(home),
        "STEWARD_PSEUDONYM_KEY": BENCH_KEY,
        "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
    }
    log = work / "stages.log"
    statements = students * per_student
    print(f"{students:,} students, {statements:,} VLE statements (log: {log})")
    generate = [STEWARD, "generate", "--students", str(students), "--statements"]
    results = {
        "generate": run_stage(
            "generate", [*generate, str(statements), "--out", str(extracts)], env, log
        )
    }
    for stage in stages(extracts, first_student(extracts), sweep_as_of):
        raw = raw_scan_seconds(stage.raw_scan, home, extracts) if stage.raw_scan else None
        result = run_stage(stage.name, stage.command, env, log)
        if raw is not None:
            result["raw_scan_seconds"] = round(raw, 2)
            result["ratio_to_raw_scan"] = round(result["seconds"] / raw, 1)
        results[stage.name] = result
    return {"students": students, "vle_statements": statements, "stages": results}


def print_table(runs: list[dict]) -> None:
    names = list(runs[0]["stages"])
    header = ["stage"]
    for run in runs:
        n = f"{run['students']:,}"
        header += [f"{n} s", f"{n} MiB", f"{n} x raw"]
    rows = [header]
    for name in names:
        row = [name]
        for run in runs:
            stage = run["stages"][name]
            ratio = stage.get("ratio_to_raw_scan")
            row += [
                f"{stage['seconds']:.1f}",
                f"{stage['peak_rss_mib']:,}",
                f"{ratio}" if ratio else "-",
            ]
        rows.append(row)
    row = ["total"]
    for run in runs:
        total = sum(s["seconds"] for s in run["stages"].values())
        peak = max(s["peak_rss_mib"] for s in run["stages"].values())
        row += [f"{total:.1f}", f"{peak:,}", ""]
    rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  ".join(cells))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--statements-per-student", type=int, default=400)
    parser.add_argument("--sweep-as-of", default="2027-03-01")
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: temp dir)")
    args = parser.parse_args()

    speed = machine_speed()
    print(f"machine speed (best of 3, seconds): {speed}")
    runs = []
    for students in args.students:
        work = (
            (args.keep / str(students))
            if args.keep
            else Path(tempfile.mkdtemp(prefix="bench-platform-"))
        )
        try:
            runs.append(bench_scale(students, args.statements_per_student, args.sweep_as_of, work))
        finally:
            if not args.keep:
                shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(runs)
    results = {"runs": runs, "load_average": os.getloadavg(), "machine_speed": speed}
    print(f"written {save('platform', results)}")


if __name__ == "__main__":
    main()

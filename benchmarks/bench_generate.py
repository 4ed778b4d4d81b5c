"""Benchmark `steward generate`: wall time, statements/s and peak memory.

    .venv/bin/python benchmarks/bench_generate.py [--students 50000] [--statements 20000000]

Generates into a temporary folder (removed afterwards unless --keep), prints a table and
writes benchmarks/results/generate.json. Peak memory is measured two ways: a psutil
sampler (every 0.2 s) summing the RSS of this process and all its children (the VLE
shard workers) at the same instant, and getrusage's peak for this process and for its
largest child.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TreeRssSampler  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "generate.json"


def _peak_rss_mib() -> tuple[float, float]:
    """(this process, largest waited-for child) peak RSS in MiB (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, child


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--statements", type=int, default=20_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=None, help="VLE shard processes")
    parser.add_argument("--out", type=Path, default=None, help="folder (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args(argv)

    from steward.sources.generator import generate

    out = args.out or Path(tempfile.mkdtemp(prefix="steward-bench-generate-"))
    sampler = TreeRssSampler()
    sampler.start()
    started = time.perf_counter()
    try:
        summary = generate(
            out,
            args.students,
            args.seed,
            vle_statements=args.statements,
            as_of=date(2026, 11, 1),
            progress=lambda msg: print(f"  [{time.perf_counter() - started:7.1f}s] {msg}"),
            workers=args.workers,
        )
        wall = time.perf_counter() - started
        tree_peak = sampler.stop() / 2**20
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    finally:
        if args.out is None and not args.keep:
            shutil.rmtree(out, ignore_errors=True)
    own, child = _peak_rss_mib()
    result = {
        "benchmark": "generate",
        "students": args.students,
        "statements_requested": args.statements,
        "statements_written": summary["vle_statements"],
        "wall_seconds": round(wall, 2),
        "statements_per_second": round(summary["vle_statements"] / wall),
        "peak_rss_mib_tree_sampled": round(tree_peak, 1),
        "peak_rss_mib_parent": round(own, 1),
        "peak_rss_mib_largest_child": round(child, 1),
        "output_gib": round(size / 2**30, 2),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": summary["files"],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'students':<28}{args.students:>16,}")
    print(f"{'statements written':<28}{summary['vle_statements']:>16,}")
    print(f"{'wall time (s)':<28}{wall:>16.1f}")
    print(f"{'statements/s':<28}{result['statements_per_second']:>16,}")
    print(f"{'peak RSS all procs (MiB)':<28}{tree_peak:>16.0f}")
    print(f"{'peak RSS parent (MiB)':<28}{own:>16.0f}")
    print(f"{'peak RSS largest child':<28}{child:>16.0f}")
    print(f"{'output size (GiB)':<28}{result['output_gib']:>16.2f}")
    print(f"results written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

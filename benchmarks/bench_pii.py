"""PII scan throughput and memory: notes per second for 400-character case notes (goal
>= 200/s on this machine), and resident memory over 100,000 notes (goal: flat, growth
under 10% after warm-up).

    .venv/bin/python benchmarks/bench_pii.py [--notes 4000] [--memory-notes 100000]
        [--unmitigated-notes 20000] [--processes 1 2]

spaCy's StringStore keeps every token it has seen, so a long Presidio run grows with
the number of distinct names, emails and numbers. `steward.pii` analyses notes inside
`nlp.memory_zone()` blocks; the same notes through Presidio's `BatchAnalyzerEngine`
(same analyzer, no memory zone) are measured beside it for comparison.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save, table  # noqa: E402

NOTE_CHARS = 400


def notes_of_400_chars(seed: int) -> Iterator[str]:
    """Endless generated case notes (holdout phrasing), each cut or joined to 400 chars."""
    from steward.sources.generator import iter_case_notes

    pending = ""
    batch = 0
    while True:
        batch += 1
        for note, _spans in iter_case_notes(seed * 1000 + batch, 1000, "holdout"):
            pending = f"{pending} {note['text']}".strip()
            if len(pending) >= NOTE_CHARS:
                yield pending[:NOTE_CHARS]
                pending = ""


def rss_mib(process: psutil.Process) -> float:
    total = process.memory_info().rss
    total += sum(child.memory_info().rss for child in process.children(recursive=True))
    return total / 2**20


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def throughput(texts: list[str], processes: list[int], batch_size: int) -> dict:
    from steward.pii import scan_texts

    out = {}
    for n_process in processes:
        items = list(enumerate(texts))
        list(scan_texts(items[:200], batch_size=batch_size, n_process=n_process))  # warm-up
        cpu_before = _cpu_seconds()
        start = time.perf_counter()
        spans = sum(len(row["spans"]) for row in scan_texts(items, batch_size, n_process))
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds() - cpu_before
        out[f"n_process={n_process}"] = {
            "notes": len(texts),
            "seconds": round(seconds, 2),
            "notes_per_second": round(len(texts) / seconds, 1),
            # CPU time of this process and its workers: what the work costs whatever
            # else shares the machine.
            "cpu_seconds": round(cpu, 2),
            "notes_per_cpu_second": round(len(texts) / cpu, 1),
            "spans": spans,
        }
    return out


def memory_run(notes: int, seed: int, mitigated: bool, every: int) -> dict:
    """RSS and StringStore size every `every` notes over `notes` notes, one process."""
    from presidio_analyzer import BatchAnalyzerEngine

    from steward.pii import get_analyzer, get_detector, load_pii_policy

    detector = get_detector()
    nlp = detector.analyzer.nlp_engine.nlp[load_pii_policy().language]
    process = psutil.Process()
    source = notes_of_400_chars(seed)
    samples = []
    done = 0
    start = time.perf_counter()
    if mitigated:
        stream = detector.detect_many(enumerate(islice(source, notes)))
    else:
        batch = BatchAnalyzerEngine(get_analyzer())

        def unzoned() -> Iterator[object]:
            while chunk := list(islice(source, min(every, notes - done))):
                yield from batch.analyze_iterator(chunk, language="en", batch_size=64)

        stream = unzoned()
    for _ in stream:
        done += 1
        if done % every == 0:
            gc.collect()
            samples.append(
                {
                    "notes": done,
                    "rss_mib": round(rss_mib(process), 1),
                    "strings": len(nlp.vocab.strings),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
        if done >= notes:
            break
    baseline = samples[min(1, len(samples) - 1)]  # after the first block: caches warm
    last = samples[-1]
    return {
        "notes": done,
        "memory_zones": mitigated,
        "samples": samples,
        "rss_growth_after_warmup": round(last["rss_mib"] / baseline["rss_mib"] - 1, 4),
        "strings_growth_after_warmup": last["strings"] - baseline["strings"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=4000, help="throughput sample (0: skip)")
    parser.add_argument("--memory-notes", type=int, default=100_000, help="0: skip")
    parser.add_argument("--unmitigated-notes", type=int, default=20_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    from steward.pii import get_detector, load_pii_policy

    policy = load_pii_policy()
    start = time.perf_counter()
    get_detector()
    load_seconds = time.perf_counter() - start

    rows = [("analyzer load", f"{load_seconds:.2f} s")]
    if args.notes:
        texts = list(islice(notes_of_400_chars(args.seed), args.notes))
        speed = {
            "note_chars": NOTE_CHARS,
            "model": policy.model,
            "batch_size": policy.batch_size,
            "analyzer_load_seconds": round(load_seconds, 2),
            "throughput": throughput(texts, args.processes, policy.batch_size),
            "load_average_1_5_15": [round(x, 2) for x in psutil.getloadavg()],
        }
        for name, r in speed["throughput"].items():
            rows.append(
                (
                    f"throughput {name}",
                    f"{r['notes_per_second']} notes/s wall, {r['notes_per_cpu_second']} notes "
                    f"per CPU-second ({r['notes']:,} notes)",
                )
            )
        rows.append(("load average (1, 5, 15 min)", str(speed["load_average_1_5_15"])))
        rows.append(("wrote", str(save("bench_pii_throughput", speed))))
    if args.memory_notes:
        every = max(1000, args.memory_notes // 20)
        # Ours first: the unmitigated run leaves its strings in the shared vocabulary.
        memory = {"memory": memory_run(args.memory_notes, args.seed + 2, True, every)}
        if args.unmitigated_notes:
            memory["memory_unmitigated"] = memory_run(
                args.unmitigated_notes, args.seed + 1, False, min(every, 2000)
            )
        for key, m in memory.items():
            first, last = m["samples"][0], m["samples"][-1]
            rows.append(
                (
                    f"{key} ({m['notes']:,} notes)",
                    f"RSS {first['rss_mib']} -> {last['rss_mib']} MiB "
                    f"(growth after warm-up {m['rss_growth_after_warmup']:.1%}), "
                    f"strings {first['strings']:,} -> {last['strings']:,}",
                )
            )
        rows.append(("wrote", str(save("bench_pii_memory", memory))))
    print(table(rows))


if __name__ == "__main__":
    main()

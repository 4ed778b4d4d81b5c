"""Shared benchmark helpers: timing, peak memory, result files."""

from __future__ import annotations

import json
import platform
import resource
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import psutil

RESULTS = Path(__file__).resolve().parent / "results"


def peak_rss_mib() -> float:
    """Peak resident memory of this process and its waited-for children, in MiB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


@contextmanager
def timed(results: dict, key: str, cpu_key: str | None = None):
    """Wall time under `key`; with `cpu_key`, also this process's CPU time (all threads):
    on a machine shared with other work, the figure that does not depend on its load."""
    start, cpu = time.perf_counter(), time.process_time()
    yield
    results[key] = round(time.perf_counter() - start, 3)
    if cpu_key:
        results[cpu_key] = round(time.process_time() - cpu, 3)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "cpus": psutil.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
    }


def machine_speed(repeats: int = 3) -> dict:
    """Seconds this machine takes for two fixed pieces of work, best of `repeats`: a
    Python loop (one core) and a DuckDB aggregation (every core). Machines of the same
    kind are not equally fast: the same code once took 2.2 times as long in one session
    as in the next, hours apart (docs/performance.md). Results from different sessions
    compare through these figures."""
    import duckdb

    def python_loop() -> None:
        total = 0
        for i in range(10_000_000):
            total += i * i

    con = duckdb.connect()
    con.execute("set threads = ?", [psutil.cpu_count()])

    def duckdb_aggregate() -> None:
        con.execute("select sum(hash(i)) from range(300000000) t(i)").fetchone()

    out = {}
    for name, work in (("python_loop_s", python_loop), ("duckdb_aggregate_s", duckdb_aggregate)):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
        out[name] = round(min(times), 3)
    con.close()
    return out


def save(name: str, results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2) + "\n")
    return path


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


class Peak(NamedTuple):
    rss: int  # bytes, summed over the process tree
    pss: int
    top: list[tuple[int, str]]  # (PSS bytes, command line) of the largest, at the PSS peak


class TreeRssSampler(threading.Thread):
    """Peak memory of a process and every descendant; the process is this one unless
    `pid` is given. Two sums: of resident sets (RSS, which counts a page that forked
    processes share once per process: Airflow's LocalExecutor workers and task processes
    are forks) and of proportional sets (PSS, which shares such a page out among them:
    what the tree takes from the machine). At each PSS peak the largest processes are
    kept (`peak_top`, `lap()`).

    RSS (`/proc/PID/statm`, a counter) is summed every `interval` seconds. PSS needs the
    kernel to walk every page of every process (`/proc/PID/smaps_rollup`): one read of a
    2.2 GB dbt process took over 0.1 s with both cores busy, CPU taken from what is being
    measured. So PSS is read only when the RSS sum reaches a new high for the lap, and at
    least every `pss_every` seconds, never more often than every `pss_gap` seconds: the
    PSS peak is taken where RSS peaks (the two differ by the pages forks share), an
    approximation. `cpu_seconds`: what sampling cost."""

    def __init__(
        self,
        pid: int | None = None,
        interval: float = 0.2,
        pss_every: float = 15.0,
        pss_gap: float = 3.0,
    ) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.interval, self.pss_every, self.pss_gap = interval, pss_every, pss_gap
        self.peak = 0  # RSS sum
        self.peak_pss = 0
        self.peak_top: list[tuple[int, str]] = []
        self.cpu_seconds = 0.0
        self._lap = Peak(0, 0, [])
        self._laps = 0
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.process, *self.process.children(recursive=True)]
        except psutil.Error:
            return []

    def _pss(self, tree: list[psutil.Process]) -> tuple[int, list[tuple[int, str]]]:
        sizes = []
        for proc in tree:
            try:
                pss = proc.memory_full_info().pss
                label = " ".join(proc.cmdline())[:120] or proc.name()
            except psutil.Error:
                continue
            sizes.append((pss, label))
        return sum(size for size, _ in sizes), sorted(sizes, reverse=True)[:5]

    def run(self) -> None:
        last_pss = -self.pss_every
        rss_at_pss, laps = 0, 0  # the highest RSS sum PSS was read at, this lap
        while not self._halt.is_set():
            if laps != self._laps:
                rss_at_pss, laps = 0, self._laps
            tree = self._tree()
            rss = 0
            for proc in tree:
                try:
                    rss += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, rss)
            since = time.monotonic() - last_pss
            pss, top = 0, []
            if since >= self.pss_every or (rss > rss_at_pss and since >= self.pss_gap):
                last_pss, rss_at_pss = time.monotonic(), max(rss_at_pss, rss)
                pss, top = self._pss(tree)
                if pss > self.peak_pss:
                    self.peak_pss, self.peak_top = pss, top
            with self._lock:
                lap = self._lap
                if laps == self._laps:  # a sample taken across `lap()` counts in neither
                    self._lap = Peak(
                        max(lap.rss, rss), max(lap.pss, pss), top if pss > lap.pss else lap.top
                    )
            self.cpu_seconds = time.thread_time()
            self._halt.wait(self.interval)

    def lap(self) -> Peak:
        """The peaks since the last lap (or the start); the next lap starts now. `stop()`
        still returns the peak over the whole run."""
        with self._lock:
            lap, self._lap = self._lap, Peak(0, 0, [])
            self._laps += 1
        return lap

    def stop(self) -> int:
        """Stop sampling; the peak RSS sum in bytes (`peak_pss` for the PSS sum)."""
        self._halt.set()
        self.join()
        return self.peak

"""Shared benchmark helpers: timing, peak memory, result files."""

from __future__ import annotations

import json
import platform
import resource
import threading
import time
from contextlib import contextmanager
from pathlib import Path

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


def save(name: str, results: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), **results}, indent=2) + "\n")
    return path


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


class TreeRssSampler(threading.Thread):
    """Peak of (RSS of a process + RSS of every descendant), sampled every `interval`
    seconds; the process is this one unless `pid` is given."""

    def __init__(self, pid: int | None = None, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._lap_peak = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            total = 0
            try:
                tree = [self.process, *self.process.children(recursive=True)]
            except psutil.Error:
                tree = []
            for proc in tree:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._lap_peak = max(self._lap_peak, total)
            self._halt.wait(self.interval)

    def lap(self) -> int:
        """The peak since the last lap (or the start), in bytes; the next lap starts now.
        `stop()` still returns the peak over the whole run."""
        peak, self._lap_peak = self._lap_peak, 0
        return peak

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._halt.set()
        self.join()
        return self.peak

"""The benchmarks' memory sampler: it must see a child's memory, by RSS and by PSS, and
split it into laps."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _common import TreeRssSampler  # noqa: E402

MIB = 2**20
# a child that takes 256 MiB (every page written, so resident), says so, then waits
HOLDER = (
    "import time; block = bytearray(256 * 2**20); "
    "[block.__setitem__(i, 1) for i in range(0, len(block), 4096)]; "
    "print('ready', flush=True); time.sleep(30)"
)


def test_when_a_child_holds_memory_then_the_sampler_counts_it_by_rss_and_by_pss():
    sampler = TreeRssSampler(interval=0.05, pss_every=1.0, pss_gap=0.2)
    sampler.start()
    child = subprocess.Popen([sys.executable, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.5)  # a PSS reading falls due at least every second
        before = sampler.lap()
    finally:
        child.kill()
        child.wait()
    sampler.lap()  # the lap the child ended in
    time.sleep(0.5)
    after = sampler.lap()
    sampler.stop()

    assert sampler.peak >= 256 * MIB
    assert sampler.peak_pss >= 256 * MIB
    assert sampler.peak_pss <= sampler.peak  # shared pages count once, not per process
    assert before.rss >= 256 * MIB and before.pss >= 256 * MIB
    assert any("bytearray" in command for _, command in before.top)
    # the lap after the child ended no longer holds its memory
    assert after.rss < before.rss - 200 * MIB
    assert sampler.cpu_seconds > 0

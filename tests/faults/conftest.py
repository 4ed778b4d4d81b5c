"""Kill -9 harness: a platform step run as a real process group, watched for a sign that it
is part way through, then sent SIGKILL; and fingerprints of a home (per table: rows and an
order-free content hash; per file: sha256) to compare a killed-and-rerun home with one
that ran uninterrupted from an identical copy.

The base home is the session's 80 built students (identified zone and warehouse) with
their extracts in the landing folder, byte for byte as they were ingested.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

KEY = "test-only-pseudonymisation-key-0123456789abcdef"  # as tests/conftest.py builds with
EXTRACT_FOLDERS = ("udd", "vle", "attendance", "library", "notes", "consent", "requests")
# Columns that name the run or the moment of a write: they differ between any two runs
# and say nothing about what the store holds.
VOLATILE = {
    "run_id",
    "request_id",
    "loaded_at",
    "_loaded_at",
    "quarantined_at",
    "erased_at",
    "entry_id",
    "started_at",
    "ended_at",
    "scanned_at",
    "received_at",
    "due_by",
    "completed_at",
}
STEWARD = str(Path(sys.executable).parent / "steward")


class Step:
    """A platform step in its own process group; stdout lines are collected as they come."""

    def __init__(self, command: list[str], home: Path) -> None:
        env = {
            **os.environ,
            "STEWARD_HOME": str(home),
            "STEWARD_PSEUDONYM_KEY": KEY,
            "PYTHONUNBUFFERED": "1",  # progress lines arrive as printed, not at exit
        }
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # dbt runs in a child: the kill takes the whole group
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, sign: Callable[[], bool], what: str, timeout: float = 120) -> None:
        """Poll `sign` until it holds; fail if the step ends or time runs out first."""
        deadline = time.monotonic() + timeout
        while not sign():
            if self.process.poll() is not None:
                self._reader.join(5)
                pytest.fail(
                    f"the step ended (exit {self.process.returncode}) before {what}:\n"
                    + "\n".join(self.lines[-30:])
                )
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"no sign of {what} within {timeout:.0f} s")
            time.sleep(0.005)

    def printed(self, text: str) -> Callable[[], bool]:
        return lambda: any(text in line for line in self.lines)

    def kill(self) -> int:
        """SIGKILL the whole process group; the exit status (-9 when it was still running)."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        code = self.process.wait(30)
        # a child (dbt) holds its file locks until the kernel has ended it too
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.01)
        self._reader.join(5)
        return code


def start(command: list[str], home: Path) -> Step:
    return Step(command, home)


def changed(paths: list[Path]) -> Callable[[], bool]:
    """True once any of the files is modified (stat only: no lock is taken)."""
    before = {p: p.stat().st_mtime_ns for p in paths}
    return lambda: any(p.stat().st_mtime_ns != t for p, t in before.items() if p.exists())


@pytest.fixture(scope="session")
def faults_base(built_home, tmp_path_factory) -> Path:
    """The built identified zone and warehouse with the extracts in the landing folder
    (do not mutate: copy it with `copy_base`)."""
    home = tmp_path_factory.mktemp("faults-base") / "home"
    home.mkdir()
    for store in ("identified", "warehouse"):
        shutil.copy(built_home / f"{store}.duckdb", home / f"{store}.duckdb")
    for folder in EXTRACT_FOLDERS:
        shutil.copytree(built_home.parent / "institution" / folder, home / "landing" / folder)
    return home


@pytest.fixture
def copy_base(faults_base, tmp_path) -> Callable[[str], Path]:
    """`copy_base(name)`: a private copy of the base home."""

    def _copy(name: str) -> Path:
        return Path(shutil.copytree(faults_base, tmp_path / name))

    return _copy


@pytest.fixture
def as_home(monkeypatch) -> Callable[[Path], None]:
    """`as_home(home)`: run in-process steps against `home`, with the test key."""

    def _use(home: Path) -> None:
        monkeypatch.setenv("STEWARD_HOME", str(home))
        monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)

    return _use


@pytest.fixture(scope="session")
def harness(home_fingerprint, query):
    """The harness: `steward` (the command), `start`, `changed`, `fingerprint(home,
    *stores, files=False)` (volatile columns left out) and `query`."""

    def fingerprint(home: Path, *stores: str, files: bool = False) -> dict[str, tuple]:
        return home_fingerprint(home, stores, files=files, volatile=VOLATILE)

    return SimpleNamespace(
        steward=STEWARD, start=start, changed=changed, fingerprint=fingerprint, query=query
    )

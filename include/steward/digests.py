"""SHA-256 digests of extract files, remembered between runs.

The load ledger knows a file by its content's digest: ingest skips content loaded before,
and the retention sweep finds landing files whose load has expired. Hashing every landing
file each time costs a full read of them (20 GB at 50,000 students, about 40 s on both
cores), so a file's digest is remembered in `<STEWARD_HOME>/file_digests.json` beside its
inode, size, modification time and status-change time. A remembered digest is used only
while all four are unchanged: writing to a file, truncating it, replacing it or resetting its
modification time (`touch -d`) changes its status-change time, which no program can set
back, so changed content is always hashed again (a file changed in the last two seconds is not
remembered yet: file times advance in clock ticks). The file holds paths and digests only.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from steward import stores

CACHE_FILE = "file_digests.json"


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def sha256_many(paths: Iterable[Path]) -> list[str]:
    """`sha256` of each file, on every core (hashlib lets other threads run)."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(sha256, paths))


def _stamp(path: Path) -> list[int]:
    status = path.stat()
    return [status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns]


# File times advance in clock ticks, not nanoseconds: a file changed within this long of
# being hashed could change again with the same times, so its digest is not remembered.
SETTLED_NS = 2_000_000_000


def _settled(stamp: list[int]) -> bool:
    return time.time_ns() - stamp[3] > SETTLED_NS


def _cache_path() -> Path:
    return stores.home() / CACHE_FILE


def _read_cache() -> dict[str, dict]:
    try:
        cache = json.loads(_cache_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}  # none yet, or unreadable: every file is hashed and the cache rewritten
    return cache if isinstance(cache, dict) else {}


def _write_cache(cache: dict[str, dict]) -> None:
    """Replace the cache file in one step, keeping entries of files that still exist."""
    kept = {name: entry for name, entry in cache.items() if os.path.exists(name)}
    path = _cache_path()
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(json.dumps(kept, sort_keys=True), encoding="utf-8")
    os.replace(scratch, path)


def _remembered(entry: object, stamp: list[int]) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("stamp") == stamp
        and isinstance(entry.get("sha256"), str)
    )


def digests(paths: Iterable[Path]) -> list[str]:
    """The SHA-256 of each file: remembered ones where the file is unchanged, the others
    hashed on every core and remembered."""
    paths = list(paths)
    cache = _read_cache()
    names = [str(path.resolve()) for path in paths]
    stamps = [_stamp(path) for path in paths]  # before hashing: a later change shows
    stale = [
        i
        for i, (name, stamp) in enumerate(zip(names, stamps, strict=True))
        if not _remembered(cache.get(name), stamp)
    ]
    fresh: dict[int, str] = {}
    for i, value in zip(stale, sha256_many(paths[i] for i in stale), strict=True):
        fresh[i] = value
        if _settled(stamps[i]):
            cache[names[i]] = {"stamp": stamps[i], "sha256": value}
    if any(_settled(stamps[i]) for i in stale):
        _write_cache(cache)
    return [fresh.get(i) or cache[name]["sha256"] for i, name in enumerate(names)]


def digest(path: Path) -> str:
    """`digests` of one file."""
    return digests([path])[0]

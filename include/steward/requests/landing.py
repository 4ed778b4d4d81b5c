"""Landing files cleared of the lines that mention a student.

A file is mapped into memory (never copied), every identifier is looked for in all of it
with the C library's `memmem` (no per-line Python, and it lets other threads run, so the
files are searched and hashed on every core at once), and each hit is checked to be a
whole token (S123 is not S1234). Each line holding a hit is overwritten in place with
spaces: only the student's bytes are written (on the same disk blocks, not a copy left
behind in freed ones), every other record keeps its line number (the raw tables' lineage
stays true), and every framing skips a blank line. A delimited file keeps its header. A
whole-file JSON document (an array of statements) is written again without the matching
items instead. Nothing changes until the caller applies the rewrite, after the load
ledger knows the new hash.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import mmap
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from steward import sources


@dataclass(frozen=True)
class Rewrite:
    path: Path
    old_hash: str
    new_hash: str
    records_removed: int
    blanks: tuple[tuple[int, int], ...] = ()  # byte ranges overwritten with spaces
    staged: Path | None = None  # or the whole new content (a JSON document)

    def apply(self) -> None:
        if self.staged is not None:
            os.replace(self.staged, self.path)
            return
        with self.path.open("r+b") as handle:
            for start, end in self.blanks:
                handle.seek(start)
                handle.write(b" " * (end - start))
            handle.flush()
            os.fsync(handle.fileno())

    def discard(self) -> None:
        if self.staged is not None:
            self.staged.unlink(missing_ok=True)


# `bytes.find` holds the interpreter lock; a foreign call through ctypes releases it.
_LIBC = ctypes.CDLL(ctypes.util.find_library("c"))
_LIBC.memmem.restype = ctypes.c_void_p
_LIBC.memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]


def _is_token_char(byte: int) -> bool:
    return 48 <= byte <= 57 or 65 <= byte <= 90 or 97 <= byte <= 122


def _occurrences(data: mmap.mmap, token: bytes) -> list[int]:
    """Start offsets of every occurrence of `token` (whole token or not)."""
    base, size, found = np.frombuffer(data, dtype=np.uint8).ctypes.data, len(data), []
    start = 0
    while address := _LIBC.memmem(base + start, size - start, token, len(token)):
        found.append(address - base)
        start = address - base + 1
    return found


def _hits(data: mmap.mmap, tokens: list[bytes]) -> list[int]:
    """Start offsets of every whole-token occurrence of any token."""
    found = []
    for token in tokens:
        for start in _occurrences(data, token):
            end = start + len(token)
            before = data[start - 1] if start else None
            after = data[end] if end < len(data) else None
            if (before is None or not _is_token_char(before)) and (
                after is None or not _is_token_char(after)
            ):
                found.append(start)
    return found


def _line_blanks(data: mmap.mmap, hits: list[int], keep_header: bool) -> list[tuple[int, int]]:
    """The byte ranges of the lines holding a hit, line ending excluded (found around
    each hit, never by splitting the file into lines)."""
    blanks = set()
    for hit in hits:
        start = data.rfind(b"\n", 0, hit) + 1
        end = data.find(b"\n", hit)
        end = len(data) if end == -1 else end
        blanks.add((start, end - 1 if data[end - 1 : end] == b"\r" else end))
    if keep_header:
        blanks = {b for b in blanks if b[0] != 0}
    return sorted(blanks)


def _hash_blanked(data: mmap.mmap, blanks: list[tuple[int, int]]) -> str:
    """sha256 of `data` with the ranges as spaces, without copying it."""
    digest, position = hashlib.sha256(), 0
    with memoryview(data) as view:  # released before the file's mapping is closed
        for start, end in blanks:
            digest.update(view[position:start])
            digest.update(b" " * (end - start))
            position = end
        digest.update(view[position:])
    return digest.hexdigest()


def _without_items(data: bytes, tokens: list[bytes]) -> tuple[bytes, int]:
    document = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    items = document if isinstance(document, list) else [document]
    kept = [item for item in items if not _hits(orjson.dumps(item), tokens)]
    new = orjson.dumps(kept if isinstance(document, list) else (kept[0] if kept else []))
    return new, len(items) - len(kept)


def _framing(path: Path) -> str:
    """How the adapters frame files with this suffix (found without reading the file);
    a file no adapter reads, or one whose suffix is ambiguous, is cleared by lines."""
    framings = {a.framing for a in sources.ADAPTERS if path.suffix.lower() in a.suffixes}
    return framings.pop() if len(framings) == 1 else "lines"


def _plan(path: Path, tokens: list[bytes]) -> Rewrite | None:
    """The rewrite of one file, or None when it does not mention the student."""
    if not path.stat().st_size:
        return None  # nothing to map, nothing to find
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        hits = _hits(data, tokens)
        if not hits:
            return None
        framing = _framing(path)
        old_hash = hashlib.sha256(data).hexdigest()
        if framing == "json_document":
            new, removed = _without_items(data[:], tokens)
            target = path.with_name(f".{path.name}.erasing")
            target.write_bytes(new)
            return Rewrite(path, old_hash, hashlib.sha256(new).hexdigest(), removed, staged=target)
        blanks = _line_blanks(data, hits, keep_header=framing == "delimited")
        new_hash = _hash_blanked(data, blanks)
    return Rewrite(path, old_hash, new_hash, len(blanks), blanks=tuple(blanks))


def stage_rewrites(folder: Path, identifiers: Iterable[str]) -> list[Rewrite]:
    """A rewrite, not yet applied, for every file under `folder` that mentions any
    identifier."""
    tokens = [t.encode() for t in identifiers if t]
    if not tokens or not folder.exists():
        return []
    paths = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name.endswith(".erasing"):
            path.unlink()  # left by an erasure that stopped part way: it is staged again
        else:
            paths.append(path)
    # the largest first, so that no core is left with a big file at the end
    paths.sort(key=lambda p: -p.stat().st_size)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        planned = [r for r in pool.map(lambda p: _plan(p, tokens), paths) if r is not None]
    return sorted(planned, key=lambda r: r.path)

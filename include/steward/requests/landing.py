"""Landing files cleared of the lines that mention any student of an erasure batch.

A file is mapped into memory (never copied) and the batch's identifiers are looked for in
all of it outside the interpreter lock, so files are searched and hashed on every core at
once: a few identifiers with the C library's `memmem`, one pass each; more of them with
one RE2 pass over the file's lines for all of them at once (pyarrow), `memmem` then
placing each in the few stretches of lines that hold one. Each hit is checked to be a
whole token (S123 is not S1234). Each line holding a hit is overwritten in place with
spaces: only the students' bytes are written (on the same disk blocks, not a copy left
behind in freed ones), every other record keeps its line number (the raw tables' lineage
stays true), and every framing skips a blank line. A delimited file keeps its header. A
whole-file JSON document (an array of statements) is written again without the matching
items instead. A line or item naming several students of the batch is counted for the
first of them, as answering them one by one would. Nothing changes until the caller
applies the rewrite, after the load ledger knows the new hash.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import mmap
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from steward import sources


@dataclass(frozen=True)
class Rewrite:
    path: Path
    old_hash: str
    new_hash: str
    removed: tuple[int, ...]  # records removed, per identifier group (student) asked for
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


# Measured on a 450 MB file: one memmem pass takes 0.07 s, one RE2 pass 1.2 s whether it
# looks for 7 identifiers or 460; past about 1,000 RE2's automaton outgrows its memory and
# a pass takes minutes, so larger sets are looked for in groups.
MEMMEM_TOKENS = 16
RE2_TOKENS = 400
WINDOW = 1 << 16  # bytes of whole lines RE2 tells apart; memmem searches only those hit


def _occurrences(
    data: mmap.mmap, token: bytes, start: int = 0, end: int | None = None
) -> list[int]:
    """Start offsets of every occurrence of `token` (whole token or not) in data[start:end]."""
    base, found = np.frombuffer(data, dtype=np.uint8).ctypes.data, []
    end = len(data) if end is None else end
    while address := _LIBC.memmem(base + start, end - start, token, len(token)):
        found.append(address - base)
        start = address - base + 1
    return found


def _re2(token: bytes) -> str:
    """`token` as an RE2 pattern over bytes (pyarrow matches binary as Latin-1): every byte
    that is not an ASCII letter or digit written as an escape, so none acts as syntax."""
    return "".join(
        chr(b) if chr(b).isascii() and chr(b).isalnum() else f"\\x{b:02x}" for b in token
    )


def _stretches(data: mmap.mmap, tokens: list[bytes]) -> list[tuple[int, int]]:
    """The byte ranges (runs of whole lines, about WINDOW long) where any token occurs:
    all of the file when there are few tokens."""
    if len(tokens) <= MEMMEM_TOKENS:
        return [(0, len(data))]
    bounds, position = [0], 0
    while position + WINDOW < len(data) and (cut := data.find(b"\n", position + WINDOW)) != -1:
        position = cut + 1
        bounds.append(position)
    bounds.append(len(data))
    windows = pa.LargeBinaryArray.from_buffers(
        pa.large_binary(),
        len(bounds) - 1,
        [None, pa.py_buffer(np.array(bounds, dtype=np.int64)), pa.py_buffer(data)],
    )
    hit = np.zeros(len(bounds) - 1, dtype=bool)
    for first in range(0, len(tokens), RE2_TOKENS):
        pattern = "|".join(_re2(t) for t in tokens[first : first + RE2_TOKENS])
        hit |= pc.match_substring_regex(windows, pattern).to_numpy(zero_copy_only=False)
    del windows  # the mapping cannot close while an array holds it
    return [(bounds[i], bounds[i + 1]) for i in np.flatnonzero(hit)]


def _hits(data: mmap.mmap, tokens: list[bytes]) -> list[tuple[int, int]]:
    """(start offset, token's position in `tokens`) of every whole-token occurrence."""
    found = []
    stretches = _stretches(data, tokens)
    for number, token in enumerate(tokens):
        for first, last in stretches:
            for start in _occurrences(data, token, first, last):
                end = start + len(token)
                before = data[start - 1] if start else None
                after = data[end] if end < len(data) else None
                if (before is None or not _is_token_char(before)) and (
                    after is None or not _is_token_char(after)
                ):
                    found.append((start, number))
    return found


def _line_blanks(
    data: mmap.mmap, hits: list[tuple[int, int]], keep_header: bool
) -> dict[tuple[int, int], int]:
    """The byte ranges of the lines holding a hit, line ending excluded (found around
    each hit, never by splitting the file into lines) -> the first group hit in it."""
    blanks: dict[tuple[int, int], int] = {}
    for hit, group in hits:
        start = data.rfind(b"\n", 0, hit) + 1
        end = data.find(b"\n", hit)
        end = len(data) if end == -1 else end
        line = (start, end - 1 if data[end - 1 : end] == b"\r" else end)
        blanks[line] = min(group, blanks.get(line, group))
    if keep_header:
        blanks.pop(next((b for b in blanks if b[0] == 0), None), None)
    return blanks


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


def _without_items(data: bytes, tokens: list[bytes], groups: list[int]) -> tuple[bytes, list[int]]:
    """The document without the items that name a student, and which student each removed
    item was counted for."""
    document = orjson.loads(data.removeprefix(b"\xef\xbb\xbf"))
    items = document if isinstance(document, list) else [document]
    kept, removed = [], []
    for item in items:
        hits = _hits(orjson.dumps(item), tokens)
        if hits:
            removed.append(min(groups[number] for _, number in hits))
        else:
            kept.append(item)
    new = orjson.dumps(kept if isinstance(document, list) else (kept[0] if kept else []))
    return new, removed


def _framing(path: Path) -> str:
    """How the adapters frame files with this suffix (found without reading the file);
    a file no adapter reads, or one whose suffix is ambiguous, is cleared by lines."""
    framings = {a.framing for a in sources.ADAPTERS if path.suffix.lower() in a.suffixes}
    return framings.pop() if len(framings) == 1 else "lines"


def _plan(path: Path, tokens: list[bytes], groups: list[int], count: int) -> Rewrite | None:
    """The rewrite of one file, or None when it does not mention any student; `groups`
    gives each token's group, `count` the number of groups."""
    if not path.stat().st_size:
        return None  # nothing to map, nothing to find
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        hits = _hits(data, tokens)
        if not hits:
            return None
        framing = _framing(path)
        if framing == "json_document":
            new, removed = _without_items(data[:], tokens, groups)
            old_hash = hashlib.sha256(data).hexdigest()
            target = path.with_name(f".{path.name}.erasing")
            target.write_bytes(new)
            return Rewrite(
                path,
                old_hash,
                hashlib.sha256(new).hexdigest(),
                _tally(removed, count),
                staged=target,
            )
        blanks = _line_blanks(data, [(at, groups[n]) for at, n in hits], framing == "delimited")
        if not blanks:
            return None  # only the header named them
        old_hash = hashlib.sha256(data).hexdigest()
        new_hash = _hash_blanked(data, sorted(blanks))
    return Rewrite(
        path, old_hash, new_hash, _tally(list(blanks.values()), count), blanks=tuple(sorted(blanks))
    )


def _tally(groups: list[int], count: int) -> tuple[int, ...]:
    return tuple(groups.count(g) for g in range(count))


def stage_rewrites(folder: Path, identifiers: Sequence[Iterable[str]]) -> list[Rewrite]:
    """A rewrite, not yet applied, for every file under `folder` that mentions any
    identifier; `identifiers` holds one group per student, in the order that records
    naming several of them are counted (`Rewrite.removed`)."""
    owner: dict[bytes, int] = {}
    for group, values in enumerate(identifiers):
        for value in values:
            if value:
                owner.setdefault(value.encode(), group)
    if not owner or not folder.exists():
        return []
    tokens = sorted(owner)
    groups = [owner[t] for t in tokens]
    paths = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name.endswith(".erasing"):
            path.unlink()  # left by an erasure that stopped part way: it is staged again
        else:
            paths.append(path)
    # the largest first, so that no core is left with a big file at the end
    paths.sort(key=lambda p: -p.stat().st_size)
    count = len(identifiers)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        planned = pool.map(lambda p: _plan(p, tokens, groups, count), paths)
        return sorted((r for r in planned if r is not None), key=lambda r: r.path)

"""Split an extract into numbered records without ever losing one.

Every physical line (or JSON document element) becomes either a record with its 1-based
line number or a `Problem` naming the line and the reason; `Framed` counts both, so
rows in = rows loaded + rows quarantined can be checked exactly.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from steward.sources.base import UnknownFormatError

MAX_LINE_BYTES = 1 << 20  # longer lines are quarantined, not parsed
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """A record that could not be framed: quarantined as a whole."""

    line: int
    field: str
    reason: str
    record: str


@dataclass
class Chunk:
    """Framed records: `lines[i]` is the line number of `values[col][i]`."""

    lines: list[int] = field(default_factory=list)
    values: dict[str, list[str | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _decode(raw: bytes, number: int) -> tuple[str | None, Problem | None]:
    if len(raw) > MAX_LINE_BYTES:
        reason = f"line is {len(raw):,} bytes, longer than the {MAX_LINE_BYTES:,} byte limit"
        return None, Problem(number, "*", reason, raw[:200].decode("utf-8", "replace"))
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # a UTF-8 byte-order mark is harmless: drop it
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        reason = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
        return None, Problem(number, "*", reason, raw.decode("utf-8", "replace"))
    text = text.rstrip("\r\n")
    bad = _CONTROL.search(text)
    if bad:
        reason = f"control character U+{ord(bad.group()):04X} at column {bad.start() + 1}"
        return None, Problem(number, "*", reason, text)
    return text, None


BLOCK_BYTES = 32 << 20


def _block_lines(body: bytes, first: int) -> list[tuple[int, str | None, Problem | None]]:
    """Lines of a block that ends with a newline. The common case (valid UTF-8, no control
    characters, no over-long line) is decoded and split in one pass; otherwise line by line."""
    raws = body.split(b"\n")[:-1]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if (
        text is not None
        and not _CONTROL.search(text)
        and max(map(len, raws), default=0) <= MAX_LINE_BYTES
        and not (first == 1 and text.startswith("\ufeff"))
    ):
        lines = text.split("\n")[:-1]
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        return [(first + i, line, None) for i, line in enumerate(lines)]
    out = []
    for i, raw in enumerate(raws):
        line, problem = _decode(raw, first + i)
        out.append((first + i, line, problem))
    return out


def iter_line_blocks(path: Path) -> Iterator[list[tuple[int, str | None, Problem | None]]]:
    """Blocks of (line number, text, problem): every line of the file, in order."""
    number = 1
    rest = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(BLOCK_BYTES)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n")
            if cut == -1:
                rest = block  # one line longer than a block: keep reading
                continue
            body, rest = block[: cut + 1], block[cut + 1 :]
            lines = _block_lines(body, number)
            number += len(lines)
            yield lines
    if rest:
        yield _block_lines(rest + b"\n", number)


def iter_text_lines(path: Path) -> Iterator[tuple[int, str | None, Problem | None]]:
    """(line number, text, problem) for every line; blank lines yield text ''."""
    for block in iter_line_blocks(path):
        yield from block


def frame_jsonl(path: Path, chunk_size: int) -> Iterator[Chunk]:
    """One JSON document per line -> chunks with a single `doc` column."""
    chunk = Chunk(values={"doc": []})
    for block in iter_line_blocks(path):
        docs = chunk.values["doc"]
        for number, text, problem in block:
            if problem:
                chunk.problems.append(problem)
            elif text.strip():
                chunk.lines.append(number)
                docs.append(text)
        if len(docs) >= chunk_size:
            yield chunk
            chunk = Chunk(values={"doc": []})
    yield chunk


def frame_json_document(path: Path) -> Iterator[Chunk]:
    """A whole-file JSON document: one statement, or an array of them (numbered from 1)."""
    chunk = Chunk(values={"doc": []})
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = f"not valid JSON ({exc}); a template with placeholders is not a statement"
        chunk.problems.append(Problem(1, "*", reason, raw[:500].decode("utf-8", "replace")))
        yield chunk
        return
    items = document if isinstance(document, list) else [document]
    for number, item in enumerate(items, start=1):
        chunk.lines.append(number)
        chunk.values["doc"].append(orjson.dumps(item).decode())
    yield chunk


def read_header(path: Path, delimiter: str) -> list[str]:
    """The first line's column names (quotes and a byte-order mark removed).

    Raises UnknownFormatError naming the file and line when the header cannot be read."""
    for number, text, problem in iter_text_lines(path):
        if problem:
            raise UnknownFormatError(f"{path}:{number}: header unreadable: {problem.reason}")
        if not text.strip():
            continue
        if "\r" in text:
            raise UnknownFormatError(
                f"{path}:{number}: header unreadable: lines end in a bare carriage return; "
                "save the file with \\n or \\r\\n line endings"
            )
        try:
            return [name.strip() for name in next(csv.reader([text], delimiter=delimiter))]
        except csv.Error as exc:
            raise UnknownFormatError(f"{path}:{number}: header unreadable: {exc}") from None
    return []


def frame_delimited(path: Path, delimiter: str, chunk_size: int) -> Iterator[Chunk]:
    """Header + rows -> chunks with one text column per header field; '' becomes NULL."""
    header: list[str] | None = None
    chunk = Chunk()

    def fresh() -> Chunk:
        return Chunk(values={name: [] for name in header})

    for number, text, problem in iter_text_lines(path):
        if problem:
            chunk.problems.append(problem)
            continue
        if not text.strip():
            continue
        if delimiter == "\t" and '"' not in text:
            fields = text.split("\t")
        else:
            try:
                fields = next(csv.reader([text], delimiter=delimiter, strict=True))
            except csv.Error as exc:
                chunk.problems.append(Problem(number, "*", f"unreadable quoting: {exc}", text))
                continue
        if header is None:
            header = [name.strip() for name in fields]
            chunk = Chunk(values={name: [] for name in header}, problems=chunk.problems)
            continue
        if len(fields) != len(header):
            reason = f"expected {len(header)} fields, found {len(fields)}"
            chunk.problems.append(Problem(number, "*", reason, text))
            continue
        chunk.lines.append(number)
        for name, value in zip(header, fields, strict=True):
            chunk.values[name].append(value if value != "" else None)
        if len(chunk.lines) >= chunk_size:
            yield chunk
            chunk = fresh()
    yield chunk

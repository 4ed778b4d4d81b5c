"""Source formats: detect a file's format and read it into canonical (unvalidated) records."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa

from steward.sources import institution, jisc_tsv, moodle_log, oulad, udd, xapi
from steward.sources.base import Adapter, UnknownFormatError
from steward.sources.framing import (
    HEAD_BYTES,
    Chunk,
    frame_delimited,
    frame_json_document,
    frame_jsonl,
    iter_text_lines,
    read_header,
)

ADAPTERS: tuple[Adapter, ...] = (
    *xapi.ADAPTERS,
    *udd.ADAPTERS,
    *institution.ADAPTERS,
    *oulad.ADAPTERS,
    *moodle_log.ADAPTERS,
    *jisc_tsv.ADAPTERS,
)
CHUNK_ROWS = 200_000

__all__ = [
    "ADAPTERS",
    "Adapter",
    "UnknownFormatError",
    "chunk_relation",
    "detect",
    "frame",
    "parse_file",
    "unread_fields",
]


def _delimiter(first_line: str) -> str:
    return max("\t,;|", key=first_line.count)


def _first_line(path: Path) -> str:
    for _, text, _problem in iter_text_lines(path, HEAD_BYTES):
        if text and text.strip():
            return text
    return ""


def _first_json_keys(path: Path, records: int = 20, lines: int = 1000) -> set[str]:
    """Keys of the first `records` lines (within the first `lines`) that are JSON objects:
    a damaged or partial line at the top of a file does not decide its format."""
    keys: set[str] = set()
    for number, text, _problem in iter_text_lines(path, HEAD_BYTES):
        if number > lines:
            break
        if not text or not text.strip():
            continue
        try:
            record = orjson.loads(text)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict):
            keys |= set(record)
            records -= 1
            if not records:
                break
    return keys


def detect(path: Path) -> tuple[Adapter, str]:
    """The adapter for `path` and the delimiter of a delimited file ('' for JSON).

    Raises UnknownFormatError naming the file and what was seen in it.
    """
    suffix = path.suffix.lower()
    candidates = [a for a in ADAPTERS if suffix in a.suffixes]
    if not candidates:
        raise UnknownFormatError(
            f"{path}: unsupported file type '{suffix or '(none)'}'; expected one of "
            f"{', '.join(sorted({s for a in ADAPTERS for s in a.suffixes}))}"
        )
    if candidates[0].framing == "json_document":
        return candidates[0], ""
    delimited = {a.framing for a in candidates} == {"delimited"}
    delimiter = _delimiter(_first_line(path)) if delimited else ""
    if delimited:
        header = read_header(path, delimiter)
        if not header:
            raise UnknownFormatError(f"{path}: the file is empty (no header line)")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:
            raise UnknownFormatError(
                f"{path}: the header names {', '.join(map(repr, repeated))} more than once; "
                "each column must be named once"
            )
    seen = set(header) if delimited else _first_json_keys(path)
    matches = [a for a in candidates if a.signature <= seen]
    if not matches:
        what = "header" if delimited else "first records' keys"
        shown = ", ".join(sorted(seen)[:12]) or "(empty)"
        raise UnknownFormatError(f"{path}: no known format has this {what}: {shown}")
    return max(matches, key=lambda a: len(a.signature)), delimiter


def frame(
    path: Path,
    adapter: Adapter,
    delimiter: str,
    chunk_rows: int = CHUNK_ROWS,
    *,
    columnar: bool = False,
):
    """Chunks of framed records; `columnar`: as Arrow arrays (for loading), not lists."""
    if adapter.framing == "jsonl":
        return frame_jsonl(path, chunk_rows, columnar=columnar)
    if adapter.framing == "json_document":
        return frame_json_document(path)
    return frame_delimited(path, delimiter, chunk_rows, columnar=columnar)


def chunk_table(chunk: Chunk, reads: frozenset[str] = frozenset()) -> pa.Table:
    def column(values, type_):
        return values if isinstance(values, pa.ChunkedArray) else pa.array(values, type_)

    columns = {"_line": column(chunk.lines, pa.int64())}
    for name, values in chunk.values.items():
        columns[name] = column(values, pa.string())
    for name in reads - set(columns):
        columns[name] = pa.nulls(len(chunk.lines), pa.string())
    return pa.table(columns)


def chunk_relation(
    con: duckdb.DuckDBPyConnection, adapter: Adapter, chunk: Chunk
) -> duckdb.DuckDBPyRelation:
    """A framed chunk as a relation; the adapter's SQL reads it as `src` through
    `relation.query("src", sql)`. Not registered as a view: inside a transaction DuckDB
    keeps every registered table alive until the transaction ends, so a file loaded in
    one transaction held all of its chunks (2.6 GiB of Arrow memory for a 9.2-million-row
    attendance file), docs/performance.md."""
    missing_as_null = adapter.reads if adapter.framing == "delimited" else frozenset()
    return con.from_arrow(chunk_table(chunk, missing_as_null))


def unread_fields(path: Path, adapter: Adapter, delimiter: str, records: int) -> list[str]:
    """Columns (delimited) or top-level keys of the first `records` records (JSON lines)
    that the adapter does not read: new to the contract, so never loaded. Empty for an
    adapter that does not declare what it reads."""
    if not adapter.reads or adapter.framing == "json_document":
        return []
    if adapter.framing == "delimited":
        fields = read_header(path, delimiter)
    else:
        lines = iter_text_lines(path, HEAD_BYTES)
        docs = islice((text for _, text, _problem in lines if text and text.strip()), records)
        fields = []
        for doc in docs:
            try:
                record = orjson.loads(doc)
            except orjson.JSONDecodeError:
                continue  # quarantined by the load, line by line
            if isinstance(record, dict):
                fields += [key for key in record if key not in fields]
    return [name for name in fields if name not in adapter.reads]


def parse_file(path: Path) -> dict[str, list[dict]]:
    """Every record of `path` mapped to canonical rows per target, unvalidated.

    Framing problems appear under the key `_problems`. Meant for inspection and tests;
    `steward.ingest` is what validates and loads.
    """
    adapter, delimiter = detect(path)
    out: dict[str, list[dict]] = {target: [] for target in adapter.targets}
    out["_problems"] = []
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    try:
        for chunk in frame(path, adapter, delimiter, columnar=True):
            out["_problems"].extend(vars(p) for p in chunk.problems)
            if not chunk.lines:
                continue
            chunk_rows = chunk_relation(con, adapter, chunk)
            for target, sql in adapter.targets.items():
                relation = chunk_rows.query("src", sql)
                names = relation.columns
                out[target].extend(
                    dict(zip(names, row, strict=True)) for row in relation.fetchall()
                )
    finally:
        con.close()
    return out

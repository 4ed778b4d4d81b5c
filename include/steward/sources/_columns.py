"""Column-at-a-time text building for the large extracts (VLE statements, attendance).

Formatting millions of lines one Python call at a time is too slow, so fixed-width
fields (timestamps, UUIDs, digits) are written into numpy byte matrices and whole lines
are concatenated by Arrow (`binary_join_element_wise`) from literal pieces and columns.
A finished column of lines is written to disk straight from its Arrow data buffer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", np.uint8)
_ZERO = ord("0")

Piece = str | pa.Array


def fixed_strings(chars: np.ndarray) -> pa.StringArray:
    """An Arrow string array from an (n, width) uint8 matrix of ASCII characters."""
    n, width = chars.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    data = np.ascontiguousarray(chars, dtype=np.uint8)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def digit_chars(values: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as an (n, width) matrix."""
    values = np.asarray(values, dtype=np.int64)
    out = np.empty((values.shape[0], width), dtype=np.uint8)
    for col in range(width - 1, -1, -1):
        out[:, col] = _ZERO + values % 10
        values = values // 10
    return out


def const(n: int, text: str) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(text.encode(), dtype=np.uint8), (n, len(text)))


def iso_chars(epoch_seconds: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) for integer epoch seconds, as an (n, 19) matrix."""
    secs = np.asarray(epoch_seconds, dtype=np.int64)
    days = (secs // 86400).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (days - months).astype(np.int64) + 1
    sod = secs % 86400
    n = secs.shape[0]
    return np.hstack(
        [
            digit_chars(year, 4),
            const(n, "-"),
            digit_chars(month, 2),
            const(n, "-"),
            digit_chars(day, 2),
            const(n, "T"),
            digit_chars(sod // 3600, 2),
            const(n, ":"),
            digit_chars(sod // 60 % 60, 2),
            const(n, ":"),
            digit_chars(sod % 60, 2),
        ]
    )


def timestamps(
    epoch_seconds: np.ndarray,
    suffix: str = "Z",
    fraction: np.ndarray | None = None,
    fraction_digits: int = 0,
) -> pa.StringArray:
    """ISO 8601 UTC timestamps, e.g. ``2024-10-07T09:13:22.123Z`` with a fraction."""
    parts = [iso_chars(epoch_seconds)]
    n = parts[0].shape[0]
    if fraction is not None:
        parts += [const(n, "."), digit_chars(fraction, fraction_digits)]
    parts.append(const(n, suffix))
    return fixed_strings(np.hstack(parts))


def dates(epoch_days: np.ndarray) -> pa.StringArray:
    """``YYYY-MM-DD`` for integer days since 1970-01-01."""
    return fixed_strings(iso_chars(np.asarray(epoch_days, dtype=np.int64) * 86400)[:, :10])


def uuid4s(rng: np.random.Generator, n: int) -> pa.StringArray:
    """Version-4 UUID strings drawn from ``rng`` (deterministic for its state)."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2] = _HEX[raw >> 4]
    hexed[:, 1::2] = _HEX[raw & 0x0F]
    dash = const(n, "-")
    return fixed_strings(
        np.hstack(
            [
                hexed[:, :8],
                dash,
                hexed[:, 8:12],
                dash,
                hexed[:, 12:16],
                dash,
                hexed[:, 16:20],
                dash,
                hexed[:, 20:],
            ]
        )
    )


def hex_ids(rng: np.random.Generator, n: int, width: int) -> pa.StringArray:
    return fixed_strings(_HEX[rng.integers(0, 16, size=(n, width))])


def alnum_ids(rng: np.random.Generator, n: int, width: int) -> pa.StringArray:
    return fixed_strings(_ALNUM[rng.integers(0, len(_ALNUM), size=(n, width))])


def ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def take(dictionary: pa.Array, indices: np.ndarray) -> pa.Array:
    return pc.take(dictionary, pa.array(np.asarray(indices, dtype=np.int64)))


def join(pieces: list[Piece]) -> pa.Array:
    """Element-wise concatenation of literal strings and equal-length string columns."""
    return pc.binary_join_element_wise(*pieces, "")


def line_bytes(lines: pa.Array) -> memoryview:
    """The concatenated bytes of a string column (lines already carry their newlines)."""
    if len(lines) == 0:
        return memoryview(b"")
    if lines.null_count:
        raise ValueError("a generated line is null: a column was missing a value")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[
        lines.offset : lines.offset + len(lines) + 1
    ]
    return memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


class HashingWriter:
    """A binary file that tracks its sha256, byte count and line count as it is written."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh: BinaryIO = path.open("wb")
        self._sha = hashlib.sha256()
        self.bytes = 0
        self.rows = 0

    def write(self, data: bytes | memoryview, rows: int = 0) -> None:
        self._fh.write(data)
        self._sha.update(data)
        self.bytes += len(data)
        self.rows += rows

    def close(self) -> dict:
        self._fh.close()
        return {"rows": self.rows, "bytes": self.bytes, "sha256": self._sha.hexdigest()}

"""What an adapter is: a framing of the file plus SQL that maps framed records into the
canonical tables of `steward.contracts`.

Each target query reads the framed chunk as relation `src` (column `_line` plus either
`doc` for JSON or one text column per header field) and returns `_line`, the target's
columns as text, and optionally `_error`: a reason that quarantines the whole record,
as `reason` or, to name the field at fault, `field|reason`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Adapter:
    name: str
    framing: str  # "jsonl", "json_document" or "delimited"
    targets: dict[str, str]  # canonical table -> SELECT over `src`
    # Columns (delimited) or top-level keys of the first record (JSON) that identify the
    # format; the most specific matching adapter wins.
    signature: frozenset[str] = frozenset()
    # Every source column (delimited) or top-level key (JSON lines) the SQL reads. Any
    # other is new to the contract and is classified for PII before the file is loaded.
    # Delimited: ones absent from a file's header are supplied as NULL so the contract
    # reports them per row instead of failing the file.
    reads: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if self.framing not in {"jsonl", "json_document", "delimited"}:
            raise ValueError(f"adapter {self.name}: unknown framing {self.framing!r}")


class UnknownFormatError(ValueError):
    """No adapter recognises the file."""

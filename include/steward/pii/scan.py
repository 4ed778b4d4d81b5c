"""`steward pii scan-text IN.jsonl OUT.jsonl`: PII spans for a file of texts.

Input: one JSON object per line, `{"id": ..., "text": "..."}`.
Output: one line per input line, in order,
`{"id": ..., "spans": [{"entity_type", "start", "end", "score"}]}`, offsets in
characters of the input text. Output is written to a temporary file and renamed,
so a bad input line leaves no half-written OUT.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from steward.pii.detect import Detector, get_detector


class PiiInputError(ValueError):
    """A line of a scan-text input file is unusable; the message names file and line."""


def scan_texts(
    texts: Iterable[tuple[Any, str]],
    batch_size: int | None = None,
    n_process: int | None = None,
    *,
    detector: Detector | None = None,
) -> Iterator[dict[str, Any]]:
    """`{"id", "spans": [...]}` for each `(id, text)`, in order (policy batch defaults)."""
    detector = detector or get_detector()
    for key, spans in detector.detect_many(texts, batch_size, n_process):
        yield {"id": key, "spans": [span._asdict() for span in spans]}


def read_texts(path: Path) -> Iterator[tuple[Any, str]]:
    """(id, text) per non-blank line of a JSONL file; PiiInputError names file:line."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise PiiInputError(f"{where}: not a JSON object ({exc})") from None
            if not isinstance(record, dict):
                raise PiiInputError(f"{where}: not a JSON object")
            for field in ("id", "text"):
                if field not in record:
                    raise PiiInputError(f"{where}: field '{field}' missing")
            if not isinstance(record["id"], str | int) or isinstance(record["id"], bool):
                raise PiiInputError(f"{where}: field 'id' must be a string or integer")
            if not isinstance(record["text"], str):
                raise PiiInputError(f"{where}: field 'text' must be a string")
            yield record["id"], record["text"]


def scan_text_file(
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    batch_size: int | None = None,
    n_process: int | None = None,
    *,
    detector: Detector | None = None,
) -> dict[str, Any]:
    """Scan `in_path` into `out_path`; returns counts (never text):
    `{"texts": n, "texts_with_pii": n, "spans": n, "entities": {type: n}}`."""
    in_path, out_path = Path(in_path), Path(out_path)
    if not in_path.is_file():
        raise PiiInputError(f"{in_path}: input file not found")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    texts = texts_with_pii = 0
    entities: Counter[str] = Counter()
    handle = tempfile.NamedTemporaryFile(
        "wb", dir=out_path.parent, prefix=f".{out_path.name}.", delete=False
    )
    try:
        with handle:
            for row in scan_texts(read_texts(in_path), batch_size, n_process, detector=detector):
                handle.write(orjson.dumps(row) + b"\n")
                texts += 1
                texts_with_pii += bool(row["spans"])
                entities.update(span["entity_type"] for span in row["spans"])
        os.replace(handle.name, out_path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return {
        "texts": texts,
        "texts_with_pii": texts_with_pii,
        "spans": sum(entities.values()),
        "entities": dict(sorted(entities.items())),
    }

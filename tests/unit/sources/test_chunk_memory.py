"""Loading a file's chunks inside its one transaction does not keep them: a load of a
9.2-million-row file once held every chunk's Arrow memory until it committed."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from steward import sources
from steward.sources.framing import Chunk

ROWS = 50_000
CHUNKS = 8


def attendance_chunk(first_line: int) -> Chunk:
    lines = pa.chunked_array([pa.array(range(first_line, first_line + ROWS), pa.int64())])
    student = pa.chunked_array([pa.array([f"S{n:07d}-{'x' * 40}" for n in range(ROWS)])])
    return Chunk(lines, {"STUDENT_ID": student, "EVENT_ID": student})


def test_when_chunks_load_in_one_transaction_then_each_is_released_before_the_commit():
    adapter = next(a for a in sources.ADAPTERS if a.name == "jisc_attendance")
    ((_, sql),) = adapter.targets.items()
    con = duckdb.connect()
    baseline = pa.total_allocated_bytes()
    chunk_bytes = 0
    con.begin()
    for n in range(CHUNKS):
        chunk = attendance_chunk(n * ROWS)
        chunk_bytes = max(chunk_bytes, pa.total_allocated_bytes() - baseline)
        rows = sources.chunk_relation(con, adapter, chunk)
        statement = "insert into stage by name" if n else "create temp table stage as"
        rows.query("src", f"{statement} {sql}")
        del chunk, rows
    held = pa.total_allocated_bytes() - baseline
    assert con.execute("select count(*) from stage").fetchone()[0] == ROWS * CHUNKS
    con.commit()
    assert chunk_bytes > 0
    assert held < chunk_bytes, f"{held} bytes of Arrow memory held by the open transaction"

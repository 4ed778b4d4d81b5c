"""Framing in blocks (Arrow arrays over the file's bytes) gives every line the same fate
as reading it line by line: the same line numbers, texts or fields, and problems."""

from __future__ import annotations

import csv
import random

import pytest

from steward.sources import framing

# Pieces that each take a line off the block's fast path: BOMs, control characters, bytes
# that are not UTF-8, carriage returns, white space Python strips (no-break space, U+3000).
PIECES = [
    b'{"id":"a"}',
    b"  ",
    b"\r",
    b"\t",
    b"\xef\xbb\xbf",
    b"\xff",
    b"\xc3\xa9",
    b"\x00",
    b"\x1f",
    b"\x7f",
    b"\xc2\xa0",
    b"\xe3\x80\x80",
    b"\xe2\x80\xa8",
    b"\x0b",
    b"x",
]


def _line_by_line(path):
    """The expected records: what the per-line reader makes of the file."""
    lines, docs, problems = [], [], []
    for number, text, problem in framing.iter_text_lines(path):
        if problem:
            problems.append(problem)
        elif text.strip():
            lines.append(number)
            docs.append(text)
    return lines, docs, problems


def _framed(path, columnar):
    lines, docs, problems = [], [], []
    for chunk in framing.frame_jsonl(path, 5, columnar=columnar):
        if columnar:
            lines += chunk.lines.to_pylist()
            docs += chunk.values["doc"].to_pylist()
        else:
            lines += chunk.lines
            docs += chunk.values["doc"]
        problems += chunk.problems
    return lines, docs, problems


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
def test_when_jsonl_is_framed_in_blocks_then_every_line_fares_as_read_line_by_line(
    tmp_path, monkeypatch, seed, block_bytes
):
    monkeypatch.setattr(framing, "BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(framing, "MAX_LINE_BYTES", 24)  # some lines are over-long
    rng = random.Random(seed)
    lines = [
        b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
        for _ in range(rng.randint(0, 40))
    ]
    path = tmp_path / "statements.jsonl"
    path.write_bytes(b"\n".join(lines) + rng.choice([b"", b"\n"]))

    expected = _line_by_line(path)
    assert _framed(path, columnar=True) == expected
    assert _framed(path, columnar=False) == expected


def test_when_the_first_line_has_a_bom_and_later_lines_end_in_crlf_then_both_are_removed(
    tmp_path,
):
    path = tmp_path / "statements.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id":"a"}\r\n\r\n{"id":"b"}\r\n\xc2\xa0\n{"id":"c"}')

    (chunk,) = framing.frame_jsonl(path, 100, columnar=True)

    assert chunk.lines.to_pylist() == [1, 3, 5]
    assert chunk.values["doc"].to_pylist() == ['{"id":"a"}', '{"id":"b"}', '{"id":"c"}']
    assert chunk.problems == []


def test_when_a_line_has_a_control_character_then_only_that_line_is_a_problem(tmp_path):
    path = tmp_path / "statements.jsonl"
    path.write_bytes(b'{"id":"a"}\n{"id":"\x01b"}\n{"id":"c"}\n')

    (chunk,) = framing.frame_jsonl(path, 100, columnar=True)

    assert chunk.lines.to_pylist() == [1, 3]
    assert [(p.line, p.reason) for p in chunk.problems] == [
        (2, "control character U+0001 at column 8")
    ]


def test_every_character_python_strips_starts_with_a_byte_the_block_framing_checks():
    leads = {chr(c).encode()[0] for c in range(0x110000) if chr(c).isspace()}
    assert all(framing._SPACE_LEADS[lead] for lead in leads)


def _rows_line_by_line(path, delimiter):
    """The expected rows: the first readable line is the header, each later one is split
    by the csv module (or on tabs when it has no quote) and must have the header's width."""
    header, lines, values, problems = None, [], {}, []
    for number, text, problem in framing.iter_text_lines(path):
        if problem:
            problems.append(problem)
            continue
        if not text.strip():
            continue
        try:
            if delimiter == "\t" and '"' not in text:
                fields = text.split("\t")
            else:
                fields = next(csv.reader([text], delimiter=delimiter, strict=True))
        except csv.Error as exc:
            problems.append(framing.Problem(number, "*", f"unreadable quoting: {exc}", text))
            continue
        if header is None:
            header = [name.strip() for name in fields]
            values = {name: [] for name in header}
        elif len(fields) != len(header):
            reason = f"expected {len(header)} fields, found {len(fields)}"
            problems.append(framing.Problem(number, "*", reason, text))
        else:
            lines.append(number)
            for name, value in zip(header, fields, strict=True):
                values[name].append(value or None)
    return lines, values, problems


def _framed_rows(path, delimiter, columnar):
    lines, values, problems = [], {}, []
    for chunk in framing.frame_delimited(path, delimiter, 3, columnar=columnar):
        lines += chunk.lines.to_pylist() if columnar and chunk.values else list(chunk.lines)
        for name, column in chunk.values.items():
            values.setdefault(name, []).extend(column.to_pylist() if columnar else column)
        problems += chunk.problems
    return lines, values, problems


FIELD_PIECES = ["a", "", " ", '"', '"x"', '""', "\r", "\x01", "\xa0", "\ufeff", "\t", ",", "|"]


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("delimiter", ["\t", ",", "|"])
def test_when_a_delimited_file_is_framed_in_blocks_then_every_row_fares_as_read_line_by_line(
    tmp_path, monkeypatch, seed, delimiter
):
    monkeypatch.setattr(framing, "BLOCK_BYTES", 32)
    rng = random.Random(seed)
    width = rng.randint(1, 4)
    header = delimiter.join(f'"H{i}"' if rng.random() < 0.3 else f" H{i} " for i in range(width))
    rows = [
        delimiter.join(
            "".join(rng.choice(FIELD_PIECES) for _ in range(rng.randint(0, 3)))
            for _ in range(width if rng.random() < 0.8 else rng.randint(1, 5))
        )
        for _ in range(rng.randint(0, 30))
    ]
    path = tmp_path / "extract.csv"
    path.write_bytes(("\n".join([header, *rows]) + rng.choice(["", "\n"])).encode())

    expected = _rows_line_by_line(path, delimiter)
    assert _framed_rows(path, delimiter, columnar=True) == expected
    assert _framed_rows(path, delimiter, columnar=False) == expected


def test_when_a_row_has_too_few_fields_or_bad_quoting_then_only_that_row_is_a_problem(tmp_path):
    path = tmp_path / "extract.tsv"
    path.write_bytes(b'A\tB\n1\t2\n3\n"4\t5\n"6"\t\n')

    (chunk,) = framing.frame_delimited(path, "\t", 100, columnar=True)

    assert chunk.lines.to_pylist() == [2, 5]
    assert chunk.values["A"].to_pylist() == ["1", "6"]
    assert chunk.values["B"].to_pylist() == ["2", None]
    assert [(p.line, p.reason) for p in chunk.problems] == [
        (3, "expected 2 fields, found 1"),
        (4, "unreadable quoting: unexpected end of data"),
    ]

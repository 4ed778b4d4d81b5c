"""`scan-text` contract: {"id","text"} lines in, {"id","spans":[...]} lines out, in order."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from steward.pii import PiiInputError, scan_text_file, scan_texts
from steward.pii.detect import Detector, get_detector

TEXTS = [
    ("n1", "Met with Amelia Clarke (S1234567), mobile 07700 900123."),
    ("n2", "No personal data in this forum post about CS1010."),
    (3, "Email amelia.clarke@student.example.ac.uk, postcode LS6 2QT."),
]


def _write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_when_file_scanned_then_one_output_line_per_input_in_order(tmp_path):
    source = _write(tmp_path / "in.jsonl", [orjson.dumps({"id": i, "text": t}) for i, t in TEXTS])
    counts = scan_text_file(source, tmp_path / "out" / "spans.jsonl")
    rows = [
        orjson.loads(line) for line in (tmp_path / "out" / "spans.jsonl").read_bytes().splitlines()
    ]
    assert [row["id"] for row in rows] == ["n1", "n2", 3]
    first = TEXTS[0][1]
    assert [(s["entity_type"], first[s["start"] : s["end"]]) for s in rows[0]["spans"]] == [
        ("PERSON", "Amelia Clarke"),
        ("STUDENT_ID", "S1234567"),
        ("UK_PHONE", "07700 900123"),
    ]
    assert rows[1]["spans"] == []
    assert set(rows[2]["spans"][0]) == {"entity_type", "start", "end", "score"}
    assert all(0 < s["score"] <= 1 for row in rows for s in row["spans"])
    assert counts == {
        "texts": 3,
        "texts_with_pii": 2,
        "spans": 5,
        "entities": {
            "EMAIL_ADDRESS": 1,
            "PERSON": 1,
            "STUDENT_ID": 1,
            "UK_PHONE": 1,
            "UK_POSTCODE": 1,
        },
    }


def test_when_blank_lines_in_input_then_they_are_skipped(tmp_path):
    source = _write(tmp_path / "in.jsonl", [b"", orjson.dumps({"id": "a", "text": "hello"}), b""])
    assert scan_text_file(source, tmp_path / "out.jsonl")["texts"] == 1


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        (b'{"id": "x"}', "field 'text' missing"),
        (b'{"text": "x"}', "field 'id' missing"),
        (b'{"id": "x", "text": 5}', "field 'text' must be a string"),
        (b'{"id": [1], "text": "x"}', "field 'id' must be a string or integer"),
        (b'{"id": "x", "text": ', "not a JSON object"),
        (b'["x", "y"]', "not a JSON object"),
    ],
    ids=["text_missing", "id_missing", "text_not_string", "id_not_scalar", "truncated", "array"],
)
def test_when_input_line_is_bad_then_error_names_file_line_and_field(tmp_path, bad_line, message):
    good = orjson.dumps({"id": "ok", "text": "Met with Amelia Clarke."})
    source = _write(tmp_path / "in.jsonl", [good, bad_line, good])
    out = tmp_path / "out.jsonl"
    with pytest.raises(PiiInputError, match=rf"in\.jsonl:2: {message}"):
        scan_text_file(source, out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left behind


def test_when_input_file_missing_then_error_names_it(tmp_path):
    with pytest.raises(PiiInputError, match=r"nope\.jsonl: input file not found"):
        scan_text_file(tmp_path / "nope.jsonl", tmp_path / "out.jsonl")


def test_when_scanned_with_two_processes_then_results_equal_one_process():
    texts = [(f"t{i}", f"{text} Note {i}.") for i in range(12) for _, text in TEXTS[:1]]
    detector = get_detector()
    # blocks of 4 texts, so the 12 texts are more than one block and go to the workers
    small_blocks = Detector(detector.analyzer, replace(detector.policy, memory_zone_docs=4))
    single = list(scan_texts(texts, batch_size=4, n_process=1, detector=small_blocks))
    double = list(scan_texts(texts, batch_size=4, n_process=2, detector=small_blocks))
    assert double == single
    assert [row["id"] for row in double] == [key for key, _ in texts]

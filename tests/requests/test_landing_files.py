"""Landing files lose exactly the lines that name the student, keep every other line where
it was, and the hash planned for the ledger is the hash of what is written."""

from __future__ import annotations

import hashlib

import pytest

from steward.requests import landing
from steward.requests.landing import stage_rewrites


def blanked(text: str, lines: set[int]) -> str:
    """`text` with the given lines (0-based) as spaces, line endings kept."""
    out = []
    for number, line in enumerate(text.split("\n")):
        body = line.removesuffix("\r")
        out.append(" " * len(body) + line[len(body) :] if number in lines else line)
    return "\n".join(out)


STUDENT_TSV = "STUDENT_ID\tNAME\nS123\tAnn Lee\nS1234\tBob Hay\n"
EVENTS = '{"actor":"S123"}\n{"actor":"S12"}\n{"mbox":"mailto:ann.lee@x.ac.uk"}'
NOTES = '{"text":"Met Ann Lee about S9"}\r\n{"text":"AS123 is a room"}\r\n'
CASES = [
    # the header stays; S1234 is another student
    ("student.tsv", STUDENT_TSV, blanked(STUDENT_TSV, {1})),
    # the last line has no newline; an email is an identifier too
    ("events.jsonl", EVENTS, blanked(EVENTS, {0, 2})),
    # a JSON document loses the item, not a line
    ("statements.json", '[{"actor":"S123"},{"actor":"S5"}]', '[{"actor":"S5"}]'),
    # a name in free text; CRLF kept; AS123 is not S123
    ("notes.jsonl", NOTES, blanked(NOTES, {0})),
]


@pytest.mark.parametrize(("name", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_when_a_landing_file_names_the_student_then_only_those_records_go(
    tmp_path, name, before, after
):
    path = tmp_path / name
    path.write_bytes(before.encode())

    (rewrite,) = stage_rewrites(tmp_path, [["S123", "Ann Lee", "ann.lee@x.ac.uk"]])
    assert path.read_bytes() == before.encode(), "nothing changes before the rewrite applies"
    rewrite.apply()
    rewrite.discard()

    assert path.read_bytes().decode() == after
    assert rewrite.old_hash == hashlib.sha256(before.encode()).hexdigest()
    assert rewrite.new_hash == hashlib.sha256(after.encode()).hexdigest()
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_when_no_file_names_the_student_then_nothing_is_planned(tmp_path):
    (tmp_path / "student.tsv").write_text("STUDENT_ID\nS1234\nXS123\n")

    assert stage_rewrites(tmp_path, [["S123"]]) == []


@pytest.mark.parametrize(("name", "before", "after"), CASES, ids=[c[0] for c in CASES])
def test_when_many_identifiers_are_looked_for_then_one_re2_pass_finds_the_same_lines(
    tmp_path, monkeypatch, name, before, after
):
    monkeypatch.setattr(landing, "MEMMEM_TOKENS", 0)  # as a batch of many students does
    path = tmp_path / name
    path.write_bytes(before.encode())

    (rewrite,) = stage_rewrites(tmp_path, [["S123", "Ann Lee", "ann.lee@x.ac.uk"]])
    rewrite.apply()
    rewrite.discard()

    assert path.read_bytes().decode() == after
    assert rewrite.new_hash == hashlib.sha256(after.encode()).hexdigest()


def test_when_a_line_names_two_students_of_a_batch_then_it_is_counted_for_the_first(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text('{"actor":"S5","text":"S123"}\n{"actor":"S123"}\n{"actor":"S9"}\n')

    (rewrite,) = stage_rewrites(tmp_path, [["S123"], ["S5"], ["S9"], ["S7"]])

    assert rewrite.removed == (2, 0, 1, 0)

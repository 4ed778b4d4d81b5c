"""Free-text redaction: typed placeholders, the subject's pseudonym tag, determinism, and
generated case notes with none of their planted identifiers left."""

from __future__ import annotations

import csv
from pathlib import Path

import orjson
import pytest

from steward.pii import redact, redact_many
from steward.sources.generator import generate

TAG = "<STUDENT:ab12cd34>"
NOTE = (
    "Met with Amelia Clarke (S1234567). Amelia's mum, Joanne Clarke, rang on 07700 900123 "
    "and asked us to use amelia.clarke@gmail.com. Postcode LS6 2QT, DOB 14/03/2004, "
    "NI number AB 12 34 56 C. Dr Rahul Mehta (Module Leader) will follow up in CS1010."
)


def test_when_note_redacted_then_identifiers_become_typed_placeholders():
    assert redact(NOTE, ["Amelia Clarke"], TAG) == (
        f"Met with {TAG} (<STUDENT_ID>). {TAG}'s mum, <PERSON>, rang on <UK_PHONE> "
        "and asked us to use <EMAIL_ADDRESS>. Postcode <UK_POSTCODE>, DOB <DATE_OF_BIRTH>, "
        "NI number <UK_NINO>. Dr <PERSON> (Module Leader) will follow up in CS1010."
    )


def test_when_no_subject_given_then_every_name_is_a_person_placeholder():
    redacted = redact("Met with Amelia Clarke; Amelia agreed.")
    assert redacted == "Met with <PERSON>; <PERSON> agreed."


def test_when_ner_misses_the_subject_then_the_record_name_still_gets_the_tag():
    redacted = redact("notes from today: clarke, amelia attended", ["Amelia Clarke"], TAG)
    assert "amelia" not in redacted.lower() and "clarke" not in redacted.lower()


def test_when_subject_name_is_a_function_word_in_lower_case_then_the_word_stays():
    redacted = redact("Will said he will call Brown's office.", ["Will Brown"], TAG)
    assert redacted == f"{TAG} said he will call {TAG}'s office."


def test_when_redacted_twice_then_output_is_identical():
    assert redact(NOTE, ["Amelia Clarke"], TAG) == redact(NOTE, ["Amelia Clarke"], TAG)


def test_when_redacted_in_batches_then_output_matches_one_by_one():
    notes = [(i, f"{NOTE} Note {i}.", ["Amelia Clarke"], TAG) for i in range(5)]
    batched = dict(redact_many(notes, batch_size=2))
    assert batched == {i: redact(text, names, tag) for i, text, names, tag in notes}


@pytest.fixture(scope="module")
def institution(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pii-institution")
    generate(out, 120, seed=5, vle_statements=0, workers=1)
    return out


def test_when_generated_notes_redacted_then_no_planted_identifier_remains(institution):
    with (institution / "udd" / "student.tsv").open(newline="") as handle:
        names = {
            row["STUDENT_ID"]: [f"{row['FIRST_NAME']} {row['LAST_NAME']}"]
            for row in csv.DictReader(handle, delimiter="\t")
        }
    notes = [orjson.loads(line) for line in (institution / "notes" / "case_notes.jsonl").open()]
    truth = {
        row["note_id"]: row["spans"]
        for row in map(orjson.loads, (institution / "truth" / "note_pii_spans.jsonl").open())
    }
    assert len(notes) >= 30
    redacted = dict(
        redact_many(
            (n["note_id"], n["text"], names[n["student_id"]], f"<STUDENT:{n['student_id'][-4:]}>")
            for n in notes
        )
    )
    leaks = [
        (note_id, span["entity_type"], span["text"])
        for note_id, spans in truth.items()
        for span in spans
        if span["text"] in redacted[note_id]
    ]
    assert leaks == []
    assert all("<" in text for text in redacted.values())

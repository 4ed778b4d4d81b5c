"""Analyzer configuration: policy-driven registry, allow-list, Presidio's own test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.pii import get_analyzer, load_pii_policy
from steward.pii.policy import PiiPolicyError, parse_pii_policy
from steward.policy import load as load_policy

VECTORS = "pii/presidio_recognizer_test_vectors.jsonl"
# Presidio's entity names for the UK identifiers -> ours.
UK_VECTOR_ENTITIES = {
    "test_uk_nhs_recognizer.py": "NHS",
    "test_uk_nino_recognizer.py": "UK_NINO",
    "test_uk_postcode_recognizer.py": "UK_POSTCODE",
    "test_email_recognizer.py": "EMAIL_ADDRESS",
}


def test_when_analyzer_built_then_us_recognizers_are_absent():
    names = {type(r).__name__ for r in get_analyzer().registry.recognizers}
    disabled = set(load_pii_policy().presidio_disabled)
    assert {"UsSsnRecognizer", "UsBankRecognizer", "UsLicenseRecognizer", "UsItinRecognizer"} <= (
        disabled
    )
    assert names.isdisjoint(disabled)
    assert not any(name.startswith("Us") for name in names)


def test_when_analyzer_built_then_every_policy_recognizer_is_registered():
    names = {type(r).__name__ for r in get_analyzer().registry.recognizers}
    policy = load_pii_policy()
    assert set(policy.recognizers) | set(policy.presidio_keep) == names


def test_when_analyzer_requested_twice_then_it_is_built_once():
    assert get_analyzer() is get_analyzer()


def test_when_us_shaped_numbers_in_uk_text_then_no_us_entity_types(detector):
    text = "Room D1234567 booked; ref 078-05-1120; account 123456789012; ITIN 912-70-1234."
    kinds = {span.entity_type for span in detector.detect(text)}
    assert not any(kind.startswith("US_") for kind in kinds)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Module CS1010 and MA2104A were discussed.", id="module_codes"),
        pytest.param("We met in Harrison Building room 2.14.", id="building_with_surname"),
        pytest.param("Seen at the Nightingale Building drop-in.", id="building_nightingale"),
        pytest.param("The Module Leader and the Disability Adviser agreed.", id="role_titles"),
        pytest.param("Is BA (Hons) English and Creative Writing right?", id="course_title"),
        # random hex shaped like a phone number (0216437952) or a postcode (E49 1FD)
        pytest.param("correlation_id=01a22b74-00fb-7a83-81fb-0216437952ab", id="uuid"),
        pytest.param('{"run_id": "pii-columns-20261130T074340-e491fd"}', id="run_id"),
        pytest.param('{"model_version": "20261201T062622-a124ef"}', id="model_version"),
    ],
)
def test_when_allow_listed_term_then_not_reported(detector, text):
    assert detector.detect(text) == []


def test_when_a_postcode_stands_beside_a_run_id_then_the_postcode_is_still_found(found):
    text = "run sweep-20261130T074340-e491fd: letter to YO10 5RU returned"
    assert found(text) == [("UK_POSTCODE", "YO10 5RU")]


def test_when_allow_listed_term_touches_a_name_then_the_name_is_kept(found):
    text = "Referred to Keith Mistry, Module Leader, for CS1010."
    assert found(text) == [("PERSON", "Keith Mistry")]


def _vectors(shared_data: Path) -> list[tuple[str, dict]]:
    rows = []
    for line in (shared_data / VECTORS).read_text().splitlines():
        vector = json.loads(line)
        source = Path(vector["source"]).name
        if source in UK_VECTOR_ENTITIES:
            rows.append((UK_VECTOR_ENTITIES[source], vector))
    return rows


def test_when_presidio_uk_test_vectors_run_then_spans_match(detector, shared_data):
    vectors = _vectors(shared_data)
    assert len(vectors) == 45  # 4 NHS + 12 NINO + 21 postcode + 8 email cases
    failures = []
    for entity, vector in vectors:
        text = vector["text"]
        # Presidio's NINO test expects a span with a leading space: compare stripped text.
        expected = sorted(text[start:end].strip() for start, end in vector["expected_positions"])
        got = sorted(
            text[s.start : s.end] for s in detector.detect(text) if s.entity_type == entity
        )
        if got != expected:
            failures.append((text, expected, got))
    assert failures == []


def _raw_policy() -> dict:
    return json.loads(json.dumps(load_policy("pii")))  # a deep copy we may change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("score_threshold"), "key 'score_threshold' missing"),
        (lambda p: p.update(score_threshold=1.5), "'score_threshold' must lie in"),
        (
            lambda p: p["identifiers"]["student_id"].update(pattern="S(\\d{7}"),
            "'identifiers.student_id.pattern' is not a valid regex",
        ),
        (
            lambda p: p["presidio_predefined"]["keep"].append("UsSsnRecognizer"),
            "listed under both",
        ),
        (lambda p: p["batch"].update(batch_size=0), "must be at least 1"),
        (
            lambda p: p["discovery"].update(column_share=0),
            "'discovery.column_share' must lie in",
        ),
        (
            lambda p: p["discovery"]["name_hints"].update(PERSON="(first"),
            "'discovery.name_hints.PERSON' is not a valid regex",
        ),
    ],
    ids=[
        "missing_key",
        "threshold_out_of_range",
        "bad_regex",
        "kept_and_disabled",
        "zero_batch",
        "zero_column_share",
        "bad_name_hint",
    ],
)
def test_when_policy_is_malformed_then_error_names_file_and_key(change, message):
    raw = _raw_policy()
    change(raw)
    with pytest.raises(PiiPolicyError, match=rf"^policies/pii\.yaml: .*{message}"):
        parse_pii_policy(raw, "policies/pii.yaml")


def test_when_policy_disables_a_recognizer_then_it_is_not_enabled():
    raw = _raw_policy()
    raw["recognizers"]["UkPhoneRecognizer"] = {"enabled": False}
    policy = parse_pii_policy(raw, "pii.yaml")
    assert "UkPhoneRecognizer" not in policy.recognizers
    assert "PostcodeRecognizer" in policy.recognizers

"""Case tables per entity: what each recogniser reports and what it must leave alone."""

from __future__ import annotations

import pytest

# (case, text, expected (entity_type, matched text) or None for "nothing of that type")
STUDENT_ID = [
    ("student_id_in_sentence", "Student number S1234567 on file.", "S1234567"),
    ("student_id_in_brackets", "Met Amelia (S7654321) today.", "S7654321"),
    ("lower_case_prefix", "ref s1234567 quoted", "s1234567"),
    ("eight_digits", "Reference S12345678 is a case number.", None),
    ("six_digits", "Reference S123456 is too short.", None),
    ("no_prefix", "Order 1234567 was placed.", None),
]

ULN = [
    ("valid_check_digit", "ULN 1000000043 on the ILR.", "1000000043"),
    ("hesa_worked_example", "Learner ULN: 9276308686.", "9276308686"),
    ("wrong_check_digit", "ULN 1000000042 looks mistyped.", None),
    ("remainder_zero_never_issued", "ULN 1000000063 cannot exist.", None),
    ("leading_zero", "ULN 0000000043 is not a ULN.", None),
]

HUSID = [
    ("valid_check_digit", "HUSID 2609990725429 from HESA.", "2609990725429"),
    ("wrong_check_digit", "HUSID 2609990725428 from HESA.", None),
    ("twelve_digits", "HUSID 260999072542 from HESA.", None),
]

NHS = [
    ("spaced_3_3_4", "NHS number 401 023 2137.", "401 023 2137"),
    ("hyphenated", "NHS no 401-023-2137", "401-023-2137"),
    ("compact_leading_zeros", "NHS 0032698674", "0032698674"),
    ("wrong_check_digit", "NHS number 401 023 2138.", None),
    ("digits_of_a_plus44_number", "Landline +44 131 000 0018 works.", None),
]

UK_PHONE = [
    ("mobile_spaced", "Call 07700 900123 after 5.", "07700 900123"),
    ("mobile_compact", "Mobile 07700900123.", "07700900123"),
    ("mobile_grouped", "Mobile 07700 900 123.", "07700 900 123"),
    ("mobile_international", "Mobile +44 7700 900123.", "+44 7700 900123"),
    ("mobile_international_compact", "Mobile +447700900123.", "+447700900123"),
    ("london_landline", "Office 020 7946 0000.", "020 7946 0000"),
    ("city_landline", "Home 0161 496 0000.", "0161 496 0000"),
    ("area_in_brackets", "Home (0161) 496 0000.", "(0161) 496 0000"),
    ("five_digit_area", "Home 01632 960123.", "01632 960123"),
    ("international_with_trunk", "Home +44 (0)20 7946 0000.", "+44 (0)20 7946 0000"),
    ("international_three_digit_area", "Home +44 131 496 0000.", "+44 131 496 0000"),
    ("non_geographic", "Helpline 0300 123 4567.", "0300 123 4567"),
    ("too_few_digits", "Mobile 07700 90012 is incomplete.", None),
    ("us_number", "US office (415) 555-0132.", None),
    ("year_and_room", "In 2024 we met in room 2.14.", None),
]

UK_POSTCODE = [
    ("outward_letter_digit", "Lives in LS6 2QT now.", "LS6 2QT"),
    ("outward_two_letters_digit_letter", "Office EC1A 1BB.", "EC1A 1BB"),
    ("shortest", "Postcode M1 1AA.", "M1 1AA"),
    ("no_space", "Postcode SW1A1AA.", "SW1A1AA"),
    ("girobank", "Postcode GIR 0AA.", "GIR 0AA"),
    ("q_never_first", "Code QA1 1AA is not a postcode.", None),
    ("c_never_in_inward", "Code M1 1CA is not a postcode.", None),
    ("inside_a_word", "Token ABCM11AADEF is not a postcode.", None),
]

UK_NINO = [
    ("pairs", "NI number AB 12 34 56 C.", "AB 12 34 56 C"),
    ("compact", "NINO AB123456C.", "AB123456C"),
    ("block", "NI number AB 123456 C.", "AB 123456 C"),
    ("lower_case", "nino: tw987654a", "tw987654a"),
    ("q_never_first", "NI number QQ 12 34 56 C.", None),
    ("o_never_second", "NI number AO 12 34 56 C.", None),
    ("barred_prefix", "NI number GB 12 34 56 A.", None),
    ("suffix_beyond_d", "NI number AB 12 34 56 E.", None),
]

EMAIL_ADDRESS = [
    (
        "university",
        "Email amelia.clarke@student.example.ac.uk today.",
        "amelia.clarke@student.example.ac.uk",
    ),
    ("personal_with_digits", "Use amelia44@gmail.com instead.", "amelia44@gmail.com"),
    ("no_domain_suffix", "my email is info@presidio.", None),
    ("unknown_suffix", "Write to someone@example.notatld please.", None),
    ("no_at_sign", "this is not an email: hello-world here", None),
]

DATE_OF_BIRTH = [
    ("dob_slash", "DOB 14/03/2004 confirmed.", "14/03/2004"),
    ("date_of_birth_long", "Date of birth: 3 May 2004.", "3 May 2004"),
    ("born_on_ordinal", "She was born on 3rd May 2004 in Leeds.", "3rd May 2004"),
    ("birth_date_iso", "Birth date 2004-03-14 on the form.", "2004-03-14"),
    ("us_order_with_cue", "Birthday May 3, 2004 per the record.", "May 3, 2004"),
    ("meeting_date", "Next meeting on 14/03/2026 in the library.", None),
    ("cue_in_next_sentence", "Essay due on 3 May 2026. Date of birth checked.", None),
    ("cue_belongs_to_other_date", "DOB 14/03/2004 and enrolled on 01/09/2022.", "14/03/2004"),
]

PERSON = [
    ("full_name_after_met_with", "Met with Amelia Clarke today.", "Amelia Clarke"),
    ("title_then_surname", "Dr Okafor will follow up.", "Okafor"),
    ("apostrophe_surname", "Copied in Mr O'Donnell.", "O'Donnell"),
    ("owner_of_relative", "Rebecca's mother rang this morning.", "Rebecca"),
    ("name_before_person_verb", "Temitope rang to cancel.", "Temitope"),
    ("building_named_after_person", "Meet in the Turing Building room 2.14.", None),
    ("degree_title", "Is BSc (Hons) Computer Science the right fit?", None),
    ("module_title_before_coursework", "Worried about the Compilers coursework.", None),
    ("role_title", "Referred to the Personal Tutor.", None),
]

TABLES = {
    "STUDENT_ID": STUDENT_ID,
    "ULN": ULN,
    "HUSID": HUSID,
    "NHS": NHS,
    "UK_PHONE": UK_PHONE,
    "UK_POSTCODE": UK_POSTCODE,
    "UK_NINO": UK_NINO,
    "EMAIL_ADDRESS": EMAIL_ADDRESS,
    "DATE_OF_BIRTH": DATE_OF_BIRTH,
    "PERSON": PERSON,
}
CASES = [
    pytest.param(entity, text, expected, id=f"{entity}-{case}")
    for entity, table in TABLES.items()
    for case, text, expected in table
]


@pytest.mark.parametrize(("entity", "text", "expected"), CASES)
def test_when_case_then_reported_or_not(found, entity, text, expected):
    of_type = [value for kind, value in found(text) if kind == entity]
    if expected is None:
        assert of_type == []
    else:
        assert of_type == [expected]


def test_when_name_repeats_then_every_mention_is_reported(found):
    text = "Amelia Clarke came in. Later Amelia said Clarke is her family name."
    names = [value for kind, value in found(text) if kind == "PERSON"]
    assert names == ["Amelia Clarke", "Amelia", "Clarke"]


def test_when_email_names_its_owner_then_the_first_name_is_a_person(found):
    text = "Contact via damian.davey@gmail.com. Damian prefers mornings."
    assert ("PERSON", "Damian") in found(text)


def test_when_note_mixes_identifiers_then_each_gets_its_own_type(found):
    text = (
        "Met with Amelia Clarke (S1234567). Mobile 07700 900123, email "
        "amelia.clarke@student.example.ac.uk, postcode LS6 2QT, NI number AB 12 34 56 C, "
        "DOB 14/03/2004, ULN 1000000043, NHS 401 023 2137."
    )
    assert found(text) == [
        ("PERSON", "Amelia Clarke"),
        ("STUDENT_ID", "S1234567"),
        ("UK_PHONE", "07700 900123"),
        ("EMAIL_ADDRESS", "amelia.clarke@student.example.ac.uk"),
        ("UK_POSTCODE", "LS6 2QT"),
        ("UK_NINO", "AB 12 34 56 C"),
        ("DATE_OF_BIRTH", "14/03/2004"),
        ("ULN", "1000000043"),
        ("NHS", "401 023 2137"),
    ]


def test_when_spans_returned_then_sorted_and_never_overlapping(detector):
    text = "Dr Rahul Mehta (rahul.mehta@example.ac.uk, 020 7946 0000) met Amelia Clarke."
    spans = detector.detect(text)
    assert spans == sorted(spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:], strict=False))

"""Tutor case notes with planted personal data and exact ground-truth spans.

Two disjoint sets of sentence templates: ``tuning`` (recognisers may be tuned on it)
and ``holdout`` (phrasing nobody tuned on, for an honest accuracy figure). Both fill
their slots from the same entity generators in `_people`.

Slots that plant personal data, and the entity type of their span:

- PERSON: ``full``, ``first``, ``tsur`` (title + surname; the span covers the surname
  only, titles are not personal data), ``staff``, ``staff_tsur``, ``contact``
- EMAIL_ADDRESS: ``email`` (university), ``pemail`` (personal), ``staff_email``
- UK_PHONE: ``mobile`` (the student's), ``phone`` (someone else's), ``landline``,
  ``staff_phone``
- UK_POSTCODE: ``postcode``; STUDENT_ID: ``sid``; DATE_OF_BIRTH: ``dob``;
  UK_NINO: ``nino``

Distractor slots that look like identifiers but are not personal data: ``module``
(CS1010), ``module_name``, ``course``, ``room`` (Harrison Building room 2.14),
``role`` (Personal Tutor), ``date`` (a meeting date), ``time``, ``week``, ``year``.
"""

from __future__ import annotations

import random
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from steward.sources import _catalogue as cat
from steward.sources import _people as people

TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "tuning": {
        "open": (
            "Met with {full} ({sid}) today to review progress on {module}.",
            "{first} came to see me in {room} about the {module_name} coursework.",
            "Check-in with {tsur} following a referral from the {role}.",
            "Student {full}, ID {sid}, attended a scheduled tutorial.",
            "{full} dropped in to talk about how the first term of {course} has gone.",
            "Phoned {tsur} after two missed seminars in {module}.",
            "{first} emailed from {email} ahead of our meeting asking to talk about deadlines.",
            "Personal tutorial with {full} (student number {sid}).",
            "Catch-up with {tsur}, who is in year {year} of {course}.",
        ),
        "body": (
            "Best number for {first} is now {mobile}.",
            "Updated contact details: mobile {mobile}, email {pemail}.",
            "{first} asked that we use {pemail} rather than the university account.",
            "Term-time address has changed; new postcode is {postcode}.",
            "Home landline on file is {landline}; the family prefer evening calls.",
            "They have moved back home ({postcode}) for the rest of term.",
            "DOB {dob} confirmed against the record.",
            "Date of birth on the SIS ({dob}) did not match the passport copy, flagged to "
            "Registry.",
            "Checked identity for the hardship fund: born on {dob}, NI number {nino}.",
            "Bursary paperwork needs the National Insurance number, given as {nino}.",
            "Their student number is {sid} if Finance need it.",
            "Attendance in {module} has dropped since week {week}.",
            "Worried about the {module_name} assignment due on {date}.",
            "Suggested the study skills drop-in at {room}.",
            "Discussed whether {course} is still the right fit.",
            "The {role} has agreed a short extension for {module}.",
            "Referred to {staff} ({role}), {staff_email}.",
            "{staff_tsur} will follow up after the exam board.",
            "Copied in {staff_tsur}, who can be reached on {staff_phone}.",
            "{first}'s mother, {contact}, rang on {phone} to say they had been unwell.",
            "Reminded {first} that lecture capture for {module} is on the VLE.",
            "Has been working long hours and finds the {time} seminar hard to reach.",
        ),
        "close": (
            "Next meeting booked for {date} at {time} in {room}.",
            "Will review again in week {week}.",
            "No further action needed at this stage.",
            "Agreed to send the wellbeing service details to {email}.",
            "Follow-up with the {role} by {date}.",
        ),
    },
    "holdout": {
        "open": (
            "Tutorial note: {full} (student no. {sid}) seen re {module} progress.",
            "{tsur} attended an academic review meeting in {room}.",
            "Spoke to {first} on the phone for about twenty minutes.",
            "Wellbeing catch-up with {full} from {course}.",
            "Quick chat with {first} after the {module_name} lecture.",
            "Record of meeting - student: {full}; ref {sid}.",
            "{tsur} asked for an appointment via the {role}.",
            "Saw {first} today at the drop-in session.",
        ),
        "body": (
            "Mobile for {first}: {mobile}.",
            "Contact them via {pemail} or on {phone}.",
            "Lives at a {postcode} address during term.",
            "The emergency contact listed is {contact} on {landline}.",
            "{first} was born {dob} according to the enrolment form.",
            "System shows birth date {dob}, which is correct.",
            "Birthday {dob}; asked for a council tax exemption letter.",
            "NINO: {nino} (needed for the hardship fund).",
            "National Insurance no. {nino} added to the support plan.",
            "Quote ID {sid} on all correspondence.",
            "Engagement with {module} is patchy; missed labs in week {week}.",
            "The {module_name} submission due {date} looks at risk.",
            "Pointed them to the Skills Centre in {room}.",
            "Considering a transfer out of {course}.",
            "Passed to {staff}, {role} ({staff_email}).",
            "{staff_tsur} is aware and will ring them on {mobile}.",
            "Please direct queries to {staff} on {staff_phone}.",
            "Their partner {contact} sometimes answers {phone}.",
            "University email {email} is checked daily, so use that.",
            "d.o.b. {dob} and postcode {postcode} checked for the council letter.",
            "Has caring responsibilities and struggles with {time} starts.",
        ),
        "close": (
            "Follow-up set for {date}, {time}.",
            "Case to stay open until end of term.",
            "Nothing further for now.",
            "Will check in again after week {week}.",
            "Summary emailed to {email}.",
        ),
    },
}
TEMPLATE_SETS = tuple(TEMPLATES)

ENTITY_BY_SLOT = {
    "full": "PERSON",
    "first": "PERSON",
    "tsur": "PERSON",
    "staff": "PERSON",
    "staff_tsur": "PERSON",
    "contact": "PERSON",
    "email": "EMAIL_ADDRESS",
    "pemail": "EMAIL_ADDRESS",
    "staff_email": "EMAIL_ADDRESS",
    "mobile": "UK_PHONE",
    "phone": "UK_PHONE",
    "landline": "UK_PHONE",
    "staff_phone": "UK_PHONE",
    "postcode": "UK_POSTCODE",
    "sid": "STUDENT_ID",
    "dob": "DATE_OF_BIRTH",
    "nino": "UK_NINO",
}
ENTITY_TYPES = tuple(sorted(set(ENTITY_BY_SLOT.values())))
ROLES = (
    "Personal Tutor",
    "Module Leader",
    "Disability Adviser",
    "Student Support Officer",
    "Head of School",
    "Academic Skills Tutor",
    "Wellbeing Adviser",
)
_PERSONAL_DOMAINS = ("gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "icloud.com")
MIN_CHARS, MAX_CHARS = 150, 600


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    title: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


@dataclass(frozen=True)
class Subject:
    """The student a note is about, with the identifiers the institution holds."""

    person: Person
    student_id: str
    email: str
    mobile_digits: str
    postcode: str
    dob: date
    nino: str


@dataclass(frozen=True)
class StaffMember:
    person: Person
    staff_id: str
    email: str
    phone: str


@dataclass(frozen=True)
class Setting:
    """Non-personal context: what the student studies and where."""

    module: str
    module_name: str
    course: str
    year: int


@cache
def _parse(template: str) -> list[tuple[str, str | None]]:
    return [(lit, field) for lit, field, _spec, _conv in string.Formatter().parse(template)]


def template_slots(template: str) -> set[str]:
    return {field for _lit, field in _parse(template) if field}


def room(rng: random.Random) -> str:
    building = rng.choice(cat.CAMPUS_BUILDINGS)
    return f"{building} room {rng.randint(0, 4)}.{rng.randint(1, 30):02d}"


def personal_email(rng: random.Random, first: str, last: str) -> str:
    local = people.email_local(first, last)
    if rng.random() < 0.5:
        local = f"{local}{rng.randint(1, 99)}"
    return f"{local}@{rng.choice(_PERSONAL_DOMAINS)}"


def random_person(rng: random.Random, titles=cat.STAFF_TITLES) -> Person:
    pool = people.weighted(
        rng, (("gb", 70.0), ("in", 6.0), ("pk", 6.0), ("ng", 4.0), ("ie", 4.0), ("pl", 4.0))
    )
    first, last = people.person_name(rng, pool, rng.choice("12"))
    return Person(first, last, people.weighted(rng, titles))


def _slot_value(
    rng: random.Random,
    slot: str,
    subject: Subject,
    member: StaffMember,
    setting: Setting,
    written: date,
) -> tuple[str, str]:
    """(literal prefix, value) for one slot; the value is the span for PII slots.

    ``member`` is the colleague a sentence mentions (one per sentence, so a name and an
    email in the same sentence belong together); ``written`` is the note's date.
    """
    p = subject.person
    if slot == "full":
        return "", p.full
    if slot == "first":
        return "", p.first
    if slot == "tsur":
        return f"{p.title} ", p.last
    if slot in ("staff", "staff_tsur", "staff_email", "staff_phone"):
        return {
            "staff": ("", member.person.full),
            "staff_tsur": (f"{member.person.title} ", member.person.last),
            "staff_email": ("", member.email),
            "staff_phone": ("", member.phone),
        }[slot]
    if slot == "contact":
        return "", random_person(rng).full
    if slot == "email":
        return "", subject.email
    if slot == "pemail":
        return "", personal_email(rng, p.first, p.last)
    if slot == "mobile":
        return "", people.format_mobile(subject.mobile_digits, rng.choice(people.MOBILE_STYLES))
    if slot == "phone":
        return "", people.mobile(rng) if rng.random() < 0.6 else people.landline(rng)
    if slot == "landline":
        return "", people.landline(rng)
    if slot == "postcode":
        return "", subject.postcode
    if slot == "sid":
        return "", subject.student_id
    if slot == "dob":
        return "", people.format_date(subject.dob, rng.choice(people.DATE_STYLES))
    if slot == "nino":
        return "", people.format_nino(subject.nino, rng.choice(people.NINO_STYLES))
    if slot == "module":
        return "", setting.module
    if slot == "module_name":
        return "", setting.module_name
    if slot == "course":
        return "", setting.course
    if slot == "year":
        return "", str(setting.year)
    if slot == "room":
        return "", room(rng)
    if slot == "role":
        return "", rng.choice(ROLES)
    if slot == "week":
        return "", str(rng.randint(2, 20))
    if slot == "time":
        hour = rng.randint(9, 17)
        return "", rng.choice((f"{hour}:00", f"{hour:02d}:30", f"{hour % 12 or 12}pm"))
    if slot == "date":
        meeting = written + timedelta(days=rng.randint(-7, 28))
        return "", people.format_date(meeting, rng.choice(("long", "slash", "short_month")))
    raise KeyError(f"template slot {slot!r} has no generator")


def compose_note(
    rng: random.Random,
    template_set: str,
    subject: Subject,
    staff: list[StaffMember],
    setting: Setting,
    written: date,
) -> tuple[str, list[dict]]:
    """Note text of 150-600 characters and its PII spans (sorted by start)."""
    if template_set not in TEMPLATES:
        raise ValueError(
            f"note_template_set must be one of {', '.join(TEMPLATE_SETS)}, got {template_set!r}"
        )
    bank = TEMPLATES[template_set]
    body = rng.sample(bank["body"], k=rng.randint(2, 4))
    chosen = [rng.choice(bank["open"]), *body, rng.choice(bank["close"])]
    while True:
        text, spans = _render(rng, chosen, subject, staff, setting, written)
        if len(text) > MAX_CHARS and len(chosen) > 2:
            chosen.pop(-2)  # drop a body sentence
        elif len(text) < MIN_CHARS:
            extra = [t for t in bank["body"] if t not in chosen]
            chosen.insert(-1, rng.choice(extra))
        else:
            return text, spans


def _render(
    rng: random.Random,
    templates: list[str],
    subject: Subject,
    staff: list[StaffMember],
    setting: Setting,
    written: date,
) -> tuple[str, list[dict]]:
    parts: list[str] = []
    spans: list[dict] = []
    length = 0
    for i, template in enumerate(templates):
        if i:
            parts.append(" ")
            length += 1
        member = rng.choice(staff)
        for literal, slot in _parse(template):
            parts.append(literal)
            length += len(literal)
            if slot is None:
                continue
            prefix, value = _slot_value(rng, slot, subject, member, setting, written)
            parts.append(prefix)
            length += len(prefix)
            if slot in ENTITY_BY_SLOT:
                spans.append(
                    {
                        "entity_type": ENTITY_BY_SLOT[slot],
                        "start": length,
                        "end": length + len(value),
                        "text": value,
                    }
                )
            parts.append(value)
            length += len(value)
    return "".join(parts), spans


def staff_member(rng: random.Random, staff_id: str, person: Person, email: str) -> StaffMember:
    return StaffMember(person, staff_id, email, people.landline(rng, "national"))


def iter_case_notes(seed: int, n: int, template_set: str) -> Iterator[tuple[dict, list[dict]]]:
    """``n`` standalone case notes about synthetic students, with their PII spans.

    Yields ``(note, spans)``: note is ``{"note_id", "student_id", "staff_id",
    "created_at", "text"}``, spans are ``{"entity_type", "start", "end", "text"}`` with
    ``note["text"][start:end] == text``. Deterministic for (seed, n, template_set).
    """
    if template_set not in TEMPLATES:
        raise ValueError(
            f"template_set must be one of {', '.join(TEMPLATE_SETS)}, got {template_set!r}"
        )
    rng = random.Random(f"case-notes:{seed}:{template_set}")
    taken: set[str] = set()
    staff = []
    for _ in range(12):
        person = random_person(rng)
        email = people.unique_email(person.first, person.last, cat.STAFF_EMAIL_DOMAIN, taken)
        staff.append(staff_member(rng, f"E{rng.randrange(10**5, 10**6)}", person, email))
    for i in range(n):
        sex = people.weighted(rng, cat.SEXID)
        ethnicity = people.weighted(rng, cat.ETHNICITY)
        first, last = people.person_name(rng, people.pool_for(rng, ethnicity, "XF"), sex)
        title = rng.choice(cat.STUDENT_TITLES[sex])
        sid = f"S{rng.randrange(10**6, 10**7)}"
        subject = Subject(
            Person(first, last, title),
            sid,
            people.unique_email(first, last, cat.STUDENT_EMAIL_DOMAIN, taken),
            people.mobile_digits(rng),
            people.any_postcode(rng),
            date(1975, 1, 1) + timedelta(days=rng.randrange(365 * 33)),
            people.nino(rng),
        )
        dept = rng.choice(cat.DEPARTMENTS)
        level = rng.randrange(3)
        k = rng.randrange(5)
        setting = Setting(
            f"{dept.code}{level + 1}0{k + 1}0",
            dept.modules[level][k],
            rng.choice(dept.courses)[1],
            level + 1,
        )
        created = datetime(2025, 1, 6, 9) + timedelta(minutes=rng.randrange(60 * 24 * 600))
        text, spans = compose_note(rng, template_set, subject, staff, setting, created.date())
        author = rng.choice(staff)
        note = {
            "note_id": f"CN{i + 1:07d}",
            "student_id": sid,
            "staff_id": author.staff_id,
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "text": text,
        }
        yield note, spans

"""Synthetic institution: the extracts a UK university would hand the platform, plus the
ground truth to evaluate it against.

`generate(out_dir, students, seed)` writes (headers exactly as listed in `HEADERS`):

    udd/student.tsv, staff.tsv, course.tsv, module.tsv, module_instance.tsv,
        student_on_module.tsv                  Jisc UDD v1.6 entities, tab-separated
    vle/xapi-NNNN.jsonl, moodle-NNNN.jsonl, lrs-NNNN.jsonl
                                               xAPI statements (see `_vle`)
    attendance/attendance.tsv                  Jisc attendance recipe TSV
    library/borrowed.tsv                       Jisc library recipe TSV
    notes/case_notes.jsonl                     tutor case notes with planted PII
    consent/consent_events.csv                 consent grants and withdrawals
    requests/subject_requests.jsonl            access / erasure / rectification requests
    truth/student_outcomes.csv, truth/note_pii_spans.jsonl, truth/README.md
    manifest.json                              version, arguments, rows and sha256 per file

Output is byte-identical for the same arguments, whatever `workers` is: every random
stream is seeded from (seed, purpose) or (seed, shard) and nothing reads the clock. No
event is dated on or after `as_of` (midnight UTC); only the planned end dates of a
presentation still running at `as_of` lie beyond it. The outcome model is documented
in `_model.readme()`, which is written to truth/README.md.
"""

from __future__ import annotations

import hashlib
import math
import multiprocessing
import os
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from steward import identifiers, policy
from steward.sources import _catalogue as cat
from steward.sources import _columns as col
from steward.sources import _model as model
from steward.sources import _notes as notes
from steward.sources import _people as people
from steward.sources import _vle as vle
from steward.sources._notes import iter_case_notes

__all__ = ["GENERATOR_VERSION", "HEADERS", "generate", "iter_case_notes"]

GENERATOR_VERSION = "1.1.0"
SHARD_STATEMENTS = 1_000_000
MODULE_DAYS = 249  # first Monday of October to the Friday of the second week of June
TEACHING_WEEK_DAYS = tuple(7 * w for w in range(10)) + tuple(98 + 7 * w for w in range(10))
ASSIGNMENT_DUE_DAYS = (60, 165, 221)  # Fridays
QUIZ_OPEN_DAYS = (14, 35, 56, 112, 133, 154)  # Mondays
SEMINAR_GROUP_SIZE = 18
LEADERS_PER_DEPARTMENT = 8
TUTEES_PER_TUTOR = 30
COHORT_WEIGHTS = (18.0, 20.0, 20.0, 20.0, 22.0)  # cohorts starting Y-4 .. Y

HEADERS: dict[str, tuple[str, ...]] = {
    "udd/student.tsv": (
        "STUDENT_ID",
        "USERNAME",
        "ULN",
        "HUSID",
        "FIRST_NAME",
        "LAST_NAME",
        "DOB",
        "SEXID",
        "ETHNICITY",
        "DIFFLEARN1",
        "DOMICILE",
        "OVERSEAS",
        "POSTCODE",
        "PRIMARY_EMAIL_ADDRESS",
        "MOBILE_PHONE",
        "SOCIO_EC",
        "TUTOR_STAFF_ID",
        "PROVIDED_AT",
        "X_FEE_STATUS",
        "X_RELIGION",
        "X_CARELEAVER",
        "X_IMD_QUINTILE",
        # UDD student_course_membership fields: each student has one course, so the
        # membership's entry qualification travels on the student record.
        "ENTRY_QUALS",
        "ENTRY_POINTS",
        "ENTRY_POINTS_SCHEMA",
    ),
    "udd/staff.tsv": (
        "STAFF_ID",
        "FIRST_NAME",
        "LAST_NAME",
        "PRIMARY_EMAIL_ADDRESS",
        "X_ROLE",
        "PROVIDED_AT",
    ),
    "udd/course.tsv": (
        "COURSE_ID",
        "TITLE",
        "COURSE_AIM",
        "AWARDING_BODY",
        "INST_TIER_1",
        "INST_TIER_2",
        "PROVIDED_AT",
    ),
    "udd/module.tsv": (
        "MOD_ID",
        "MOD_NAME",
        "MOD_CREDITS",
        "MOD_LEVEL",
        "MOD_SUBJECT",
        "CREDIT_BEARING",
        "PROVIDED_AT",
    ),
    "udd/module_instance.tsv": (
        "MOD_INSTANCE_ID",
        "MOD_ID",
        "MOD_ACADEMIC_YEAR",
        "MOD_PERIOD",
        "MOD_ONLINE",
        "MOD_LOCATION",
        "X_START_DATE",
        "X_END_DATE",
        "PROVIDED_AT",
    ),
    "udd/student_on_module.tsv": (
        "STUDENT_ON_A_MODULE_INSTANCE_ID",
        "STUDENT_ID",
        "MOD_INSTANCE_ID",
        "COURSE_INSTANCE_ID",
        "MOD_START_DATE",
        "MOD_END_DATE",
        "MOD_ACTUAL_MARK",
        "MOD_AGREED_MARK",
        "MOD_AGREED_GRADE",
        "MOD_RESULT",
        "X_WITHDRAWAL_DATE",
        "X_PRINT_CREDITS",
        "PROVIDED_AT",
    ),
    "attendance/attendance.tsv": (
        "STUDENT_ID",
        "EVENT_ID",
        "EVENT_NAME",
        "EVENT_DESCRIPTION",
        "EVENT_TYPE",
        "EVENT_TYPE_DESCRIPTION",
        "EVENT_MAX_COUNT",
        "EVENT_MANDATORY",
        "START_TIME",
        "END_TIME",
        "EVENT_ATTENDED",
        "ATTENDANCE_LATE",
        "ATTENDANCE_CATEGORY",
        "STAFF_ID",
        "MOD_INSTANCE_ID",
        "COURSE_INSTANCE_ID",
    ),
    "library/borrowed.tsv": (
        "USERNAME",
        "ITEM_ID",
        "ITEM_NAME",
        "ITEM_SUBTYPE",
        "BORROWING_SITE",
        "TIMESTAMP",
    ),
    "consent/consent_events.csv": ("EVENT_ID", "STUDENT_ID", "PURPOSE", "ACTION", "OCCURRED_AT"),
    "truth/student_outcomes.csv": ("student_id", "mod_instance_id", "true_risk", "outcome"),
}

Progress = Callable[[str], None]


def _academic_start(year: int) -> date:
    """First Monday on or after 1 October."""
    first = date(year, 10, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _epoch_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def _iso_z(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _stream(seed: int, purpose: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose])


def _pystream(seed: int, purpose: str) -> random.Random:
    return random.Random(f"steward-generator:{seed}:{purpose}")


@dataclass
class _Calendar:
    cutoff: int  # epoch seconds of as_of 00:00 UTC; everything is strictly earlier
    years: list[int]
    cohorts: list[int]
    provided_at: str
    start_day: list[int]  # per year index: epoch day of the first teaching day
    end_day: list[int]  # per year index: epoch day of the last day


def _calendar(as_of: date) -> _Calendar:
    current = as_of.year if _academic_start(as_of.year) < as_of else as_of.year - 1
    years = [current - 2, current - 1, current]
    starts = [_epoch_day(_academic_start(y)) for y in years]
    cutoff = _epoch_day(as_of) * 86400
    return _Calendar(
        cutoff=cutoff,
        years=years,
        cohorts=list(range(current - 4, current + 1)),
        provided_at=_iso_z(cutoff - 22 * 3600),
        start_day=starts,
        end_day=[s + MODULE_DAYS for s in starts],
    )


class _Files:
    """Writers for every output file; collects rows, bytes and sha256 for the manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.results: dict[str, dict] = {}

    def open(self, rel: str) -> col.HashingWriter:
        writer = col.HashingWriter(self.root / rel)
        header = HEADERS.get(rel)
        if header:
            sep = "," if rel.endswith(".csv") else "\t"
            writer.write((sep.join(header) + "\n").encode())
        return writer

    def close(self, rel: str, writer: col.HashingWriter) -> None:
        self.results[rel] = writer.close()

    def table(self, rel: str, rows: list[tuple[str, ...]] | list[list[str]]) -> None:
        """A delimited file from rows of strings in HEADERS[rel] order."""
        header = HEADERS[rel]
        self.arrow(
            rel,
            {name: pa.array([r[i] for r in rows], pa.string()) for i, name in enumerate(header)},
        )

    def arrow(self, rel: str, columns: dict[str, pa.Array]) -> None:
        """A delimited file from equal-length string columns named as in HEADERS[rel]."""
        table = pa.table({name: columns[name] for name in HEADERS[rel]})
        sink = pa.BufferOutputStream()
        # quoting_style "none" also rejects any value holding a delimiter, newline or quote.
        options = pacsv.WriteOptions(
            include_header=False,
            delimiter="," if rel.endswith(".csv") else "\t",
            quoting_style="none",
        )
        pacsv.write_csv(table, sink, options)
        writer = self.open(rel)
        writer.write(memoryview(sink.getvalue()), rows=table.num_rows)
        self.close(rel, writer)

    def jsonl(self, rel: str, records: list[dict]) -> None:
        writer = self.open(rel)
        writer.write(b"".join(orjson.dumps(r) + b"\n" for r in records), rows=len(records))
        self.close(rel, writer)

    def text(self, rel: str, content: str) -> None:
        writer = self.open(rel)
        writer.write(content.encode())
        self.close(rel, writer)


# --- the institution -------------------------------------------------------------------


@dataclass
class _Students:
    ids: list[str]
    usernames: list[str]
    first: list[str]
    last: list[str]
    title: list[str]
    email: list[str]
    mobile_digits: list[str]
    postcode: list[str]
    dob: list[date]
    rows: list[list[str]]  # student.tsv rows; TUTOR_STAFF_ID is filled once staff exist
    dept: np.ndarray
    course: np.ndarray
    cohort: np.ndarray
    fee: np.ndarray  # 0 home, 1 eu, 2 overseas
    imd: np.ndarray
    attainment: np.ndarray
    propensity: np.ndarray
    tutor: list[int] = field(default_factory=list)  # staff index of the personal tutor


_FEES = ("home", "eu", "overseas")


def _make_students(seed: int, n: int, cal: _Calendar, n_depts: int) -> _Students:
    rs = _pystream(seed, "students")
    rng = _stream(seed, 1)
    dept_weights = cat.DEPARTMENT_WEIGHTS[:n_depts]
    numbers = rng.choice(9_000_000, size=n, replace=False) + 1_000_000
    ids = [f"S{v}" for v in numbers.tolist()]
    husid_next: dict[int, int] = {}
    usernames_taken: set[str] = set()
    emails_taken: set[str] = set()
    people_cols: dict[str, list] = defaultdict(list)
    codes: dict[str, list[int]] = defaultdict(list)
    rows = []
    entry_age = []
    for sid in ids:
        dept = rs.choices(range(n_depts), weights=dept_weights)[0]
        cohort = rs.choices(cal.cohorts, weights=COHORT_WEIGHTS)[0]
        fee = people.weighted(rs, cat.FEE_STATUS)
        if fee == "home":
            domicile = people.weighted(rs, cat.HOME_DOMICILE)
            ethnicity = people.weighted(rs, cat.ETHNICITY)
        else:
            domicile = people.weighted(
                rs, cat.EU_DOMICILE if fee == "eu" else cat.OVERSEAS_DOMICILE
            )
            ethnicity = people.ETHNICITY_BY_DOMICILE.get(domicile) or people.weighted(
                rs, cat.ETHNICITY_OTHER_DOMICILE
            )
        sex = people.weighted(rs, cat.SEXID)
        pool = people.pool_for(rs, ethnicity, domicile)
        first, last = people.person_name(rs, pool, sex)
        age = people.weighted(rs, cat.AGE_AT_ENTRY)
        years = {"mature": rs.randint(21, 30), "older": rs.randint(31, 50)}.get(age) or int(age)
        dob = date(cohort - years, 10, 1) - timedelta(days=rs.randrange(365))
        entry_age.append(years)
        postcode = (
            people.postcode_for_domicile(rs, domicile)
            if fee == "home"
            else people.postcode(rs, cat.LOCAL_POSTCODE_AREAS)
        )
        handle = f"{people.ascii_slug(first)[:1] or 'x'}{people.ascii_slug(last)[:6] or 'x'}"
        username = people.unique_handle(handle, usernames_taken, rs)
        email = people.unique_email(first, last, cat.STUDENT_EMAIL_DOMAIN, emails_taken)
        digits = people.mobile_digits(rs)
        phone = people.format_mobile(digits, people.weighted(rs, cat.MOBILE_STYLE_SHARE))
        # Most overseas students never had a ULN (it is issued in UK schools and colleges).
        uln = _uln(rs) if fee != "overseas" or rs.random() < 0.15 else ""
        # HUSID serials run upwards from a random start per entry year, with small gaps.
        serial = husid_next.get(cohort) or rs.randrange(10_000, 400_000)
        husid_next[cohort] = serial + rs.randint(1, 9)
        socio = (
            "9" if fee == "overseas" and rs.random() < 0.7 else people.weighted(rs, cat.SOCIO_EC)
        )
        careleaver = people.weighted(rs, cat.CARELEAVER if fee == "home" else cat.CARELEAVER_NON_UK)
        imd = int(people.weighted(rs, cat.IMD_QUINTILE))
        for name, value in (
            ("usernames", username),
            ("first", first),
            ("last", last),
            ("title", rs.choice(cat.STUDENT_TITLES[sex])),
            ("email", email),
            ("mobile_digits", digits),
            ("postcode", postcode),
            ("dob", dob),
        ):
            people_cols[name].append(value)
        for name, value in (
            ("dept", dept),
            ("course", 0 if rs.random() < 0.6 else 1),
            ("cohort", cohort),
            ("fee", _FEES.index(fee)),
            ("imd", imd),
        ):
            codes[name].append(value)
        rows.append(
            [
                sid,
                username,
                uln,
                _husid(cohort, serial),
                first,
                last,
                dob.isoformat(),
                sex,
                ethnicity,
                people.weighted(rs, cat.DIFFLEARN1),
                domicile,
                cat.OVERSEAS_BY_FEE[fee],
                postcode,
                email,
                phone,
                socio,
                "",  # TUTOR_STAFF_ID, once staff exist
                cal.provided_at,
                fee,
                people.weighted(rs, cat.RELIGION_BY_POOL.get(pool, cat.RELIGION)),
                careleaver,
                str(imd),
            ]
        )
    arrays = {name: np.array(values, dtype=np.int64) for name, values in codes.items()}
    attainment = rng.normal(model.ATTAINMENT_IMD_SLOPE * (arrays["imd"] - 3), 1.0)
    entry = _entry_qualifications(seed, arrays["fee"], np.array(entry_age), attainment)
    for row, fields in zip(rows, zip(*entry, strict=True), strict=True):
        row.extend(fields)
    return _Students(
        ids=ids,
        rows=rows,
        **people_cols,
        **arrays,
        attainment=attainment,
        propensity=rng.normal(0.0, model.STUDENT_ENGAGEMENT_SD, n),
    )


def _entry_qualifications(
    seed: int, fee: np.ndarray, age: np.ndarray, attainment: np.ndarray
) -> tuple[list[str], list[str], list[str]]:
    """ENTRY_QUALS, ENTRY_POINTS and ENTRY_POINTS_SCHEMA per student: the route by kind
    of student, the tariff from graded components of latent attainment (see `_model`)."""
    rng = _stream(seed, 12)
    n = attainment.shape[0]
    kind = np.where(
        fee == _FEES.index("overseas"),
        "overseas",
        np.where(age >= model.ENTRY_MATURE_AGE, "mature", "school_leaver"),
    )
    quals = np.empty(n, dtype=object)
    draw = rng.random(n)
    for name, weights in model.ENTRY_ROUTES.items():
        share = np.cumsum(list(weights.values())) / sum(weights.values())
        pick = np.minimum(np.searchsorted(share, draw, side="right"), len(share) - 1)
        chosen = kind == name
        quals[chosen] = np.array(list(weights), dtype=object)[pick[chosen]]
    z = attainment[:, None] + rng.normal(0.0, model.ENTRY_COMPONENT_SD, (n, model.ENTRY_COMPONENTS))
    recorded = rng.random(n) >= model.ENTRY_POINTS_GAP
    points = np.zeros(n, dtype=np.int64)
    has_points = np.zeros(n, dtype=bool)
    for qual, (cuts, tariff) in model.ENTRY_TARIFF.items():
        chosen = (quals == qual) & recorded
        points[chosen] = np.array(tariff)[np.digitize(z[chosen], cuts)].sum(axis=1)
        has_points |= chosen
    return (
        quals.tolist(),
        [str(p) if ok else "" for p, ok in zip(points.tolist(), has_points.tolist(), strict=True)],
        ["UCAS_17" if ok else "" for ok in has_points.tolist()],
    )


def _uln(rs: random.Random) -> str:
    while True:
        stem = str(rs.randrange(10**8, 10**9))
        check = identifiers.uln_check_digit(stem)
        if check is not None:
            return f"{stem}{check}"


def _husid(cohort: int, serial: int) -> str:
    stem = f"{cohort % 100:02d}{cat.HESA_INSTITUTION_ID}{serial:06d}"
    return f"{stem}{identifiers.husid_check_digit(stem)}"


@dataclass
class _Staff:
    ids: list[str]
    people: list[notes.Person]
    emails: list[str]
    roles: list[str]
    members: list[notes.StaffMember]
    leaders: list[list[int]]  # per department: staff indices
    tutors: list[list[int]]
    support: list[int]


def _make_staff(seed: int, dept_sizes: list[int], n_students: int) -> _Staff:
    rs = _pystream(seed, "staff")
    staff = _Staff([], [], [], [], [], [], [], [])
    emails_taken: set[str] = set()
    tutors = [max(2, math.ceil(size / TUTEES_PER_TUTOR)) for size in dept_sizes]
    support = max(1, n_students // 2500)
    total = LEADERS_PER_DEPARTMENT * len(dept_sizes) + sum(tutors) + support
    ids = iter(rs.sample(range(100_000, 1_000_000), k=total))

    def add(role: str) -> int:
        person = notes.random_person(rs)
        staff_id = f"E{next(ids)}"
        email = people.unique_email(person.first, person.last, cat.STAFF_EMAIL_DOMAIN, emails_taken)
        staff.ids.append(staff_id)
        staff.people.append(person)
        staff.emails.append(email)
        staff.roles.append(role)
        staff.members.append(notes.staff_member(rs, staff_id, person, email))
        return len(staff.ids) - 1

    for n_tutors in tutors:
        staff.leaders.append([add("Module Leader") for _ in range(LEADERS_PER_DEPARTMENT)])
        staff.tutors.append([add("Personal Tutor") for _ in range(n_tutors)])
    staff.support = [add("Student Support Officer") for _ in range(support)]
    return staff


@dataclass
class _Modules:
    dept: list[int]
    level: list[int]
    ids: list[str]
    names: list[str]
    leader: list[int]  # staff index of the module leader
    difficulty: np.ndarray
    # Instances: index = year_index * n_modules + module index.
    instance_ids: list[str]
    instance_module: np.ndarray
    instance_year: np.ndarray
    instance_online: list[str]


def _make_modules(seed: int, depts: tuple[cat.Department, ...], staff: _Staff, years: list[int]):
    rs = _pystream(seed, "modules")
    cols: dict[str, list] = defaultdict(list)
    for d, dept in enumerate(depts):
        for level in (1, 2, 3):
            for k, name in enumerate(dept.modules[level - 1]):
                cols["dept"].append(d)
                cols["level"].append(level)
                cols["ids"].append(f"{dept.code}{level}0{k + 1}0")
                cols["names"].append(name)
                position = ((level - 1) * 5 + k) % LEADERS_PER_DEPARTMENT
                cols["leader"].append(staff.leaders[d][position])
    n_mod = len(cols["ids"])
    instance_ids = [
        f"{cols['ids'][j % n_mod]}-{years[j // n_mod]}" for j in range(n_mod * len(years))
    ]
    return _Modules(
        **cols,
        difficulty=_stream(seed, 2).normal(0.0, model.MODULE_DIFFICULTY_SD, n_mod),
        instance_ids=instance_ids,
        instance_module=np.tile(np.arange(n_mod), len(years)),
        instance_year=np.repeat(np.arange(len(years)), n_mod),
        instance_online=["1" if rs.random() < 0.05 else "2" for _ in instance_ids],
    )


@dataclass
class _Enrolments:
    student: np.ndarray
    year: np.ndarray  # year index
    instance: np.ndarray
    engagement: np.ndarray
    risk: np.ndarray
    outcome: np.ndarray  # 0 pass, 1 fail, 2 withdrawn, 3 unknown (running)
    withdrawal_day: np.ndarray  # epoch day, valid where outcome == 2
    window_start: np.ndarray  # epoch seconds
    window_end: np.ndarray  # epoch seconds, exclusive: end of module, withdrawal or cutoff
    module_end: np.ndarray  # epoch seconds at the end of the module's last day


PASS, FAIL, WITHDRAWN, UNKNOWN = range(4)
_OUTCOME_NAMES = ("pass", "fail", "withdrawn", "")


def _make_enrolments(seed: int, s: _Students, m: _Modules, cal: _Calendar) -> _Enrolments:
    rs = _pystream(seed, "enrolments")
    n_mod = len(m.ids)
    dept_base = {}
    for i, d in enumerate(m.dept):
        dept_base.setdefault(d, i)
    stu, yr, inst = [], [], []
    for i in range(len(s.ids)):
        cohort = int(s.cohort[i])
        for yi, year in enumerate(cal.years):
            level = year - cohort + 1
            if not 1 <= level <= 3:
                continue
            options = rs.sample(
                range(cat.CORE_MODULES_PER_LEVEL, 5), k=2 if rs.random() < 0.9 else 1
            )
            base = dept_base[int(s.dept[i])] + (level - 1) * 5
            for k in [*range(cat.CORE_MODULES_PER_LEVEL), *sorted(options)]:
                stu.append(i)
                yr.append(yi)
                inst.append(yi * n_mod + base + k)
    student, year, instance = (np.array(a, dtype=np.int64) for a in (stu, yr, inst))

    rng = _stream(seed, 3)
    n = student.shape[0]
    fee_shift = np.array([model.ENGAGEMENT_FEE_SHIFT[f] for f in _FEES])
    engagement = (
        s.propensity[student]
        + model.ENGAGEMENT_ATTAINMENT_SLOPE * s.attainment[student]
        + model.ENGAGEMENT_IMD_SLOPE * (s.imd[student] - 3)
        + fee_shift[s.fee[student]]
        + rng.normal(0.0, model.MODULE_ENGAGEMENT_SD, n)
    )
    risk = model.true_risk(
        engagement, s.attainment[student], m.difficulty[m.instance_module[instance]]
    )
    fail_or_withdraw = rng.random(n) < risk
    withdraws = fail_or_withdraw & (rng.random(n) < model.WITHDRAW_SHARE)
    start_day = np.array(cal.start_day)[year]
    end_day = np.array(cal.end_day)[year]
    withdrawal_day = start_day + np.maximum(1, (rng.beta(1.2, 2.0, n) * 0.8 * MODULE_DAYS)).astype(
        np.int64
    )
    module_end = (end_day + 1) * 86400
    running = module_end > cal.cutoff
    seen_withdrawn = withdraws & (withdrawal_day * 86400 < cal.cutoff)
    outcome = np.where(
        seen_withdrawn,
        WITHDRAWN,
        np.where(running, UNKNOWN, np.where(fail_or_withdraw, FAIL, PASS)),
    )

    # Progression: drop later years of students who left after a completed year.
    leave_draw = _stream(seed, 4).random((len(s.ids), len(cal.years)))
    alive = np.ones(len(s.ids), dtype=bool)
    keep = np.zeros(n, dtype=bool)
    for yi in range(len(cal.years)):
        in_year = year == yi
        keep |= in_year & alive[student]
        withdrew = np.zeros(len(s.ids), dtype=bool)
        withdrew[student[in_year & (outcome == WITHDRAWN)]] = True
        fails = np.bincount(student[in_year & (outcome == FAIL)], minlength=len(s.ids))
        leave = (withdrew & (leave_draw[:, yi] < model.LEAVE_AFTER_WITHDRAWAL)) | (
            (fails >= 2) & (leave_draw[:, yi] < model.LEAVE_AFTER_TWO_FAILS)
        )
        alive &= ~leave

    window_start = start_day * 86400
    window_end = np.minimum(module_end, cal.cutoff - 3600)
    window_end = np.where(outcome == WITHDRAWN, withdrawal_day * 86400, window_end)
    return _Enrolments(
        student[keep],
        year[keep],
        instance[keep],
        engagement[keep],
        risk[keep],
        outcome[keep],
        withdrawal_day[keep],
        window_start[keep],
        np.maximum(window_start, window_end)[keep],
        module_end[keep],
    )


# --- writers ---------------------------------------------------------------------------


def _write_udd(
    files: _Files,
    cal: _Calendar,
    depts: tuple[cat.Department, ...],
    s: _Students,
    staff: _Staff,
    m: _Modules,
    e: _Enrolments,
    seed: int,
) -> None:
    tutor_column = HEADERS["udd/student.tsv"].index("TUTOR_STAFF_ID")
    for row, tutor in zip(s.rows, s.tutor, strict=True):
        row[tutor_column] = staff.ids[tutor]
    files.table("udd/student.tsv", s.rows)
    files.table(
        "udd/staff.tsv",
        [
            [sid, p.first, p.last, email, role, cal.provided_at]
            for sid, p, email, role in zip(
                staff.ids, staff.people, staff.emails, staff.roles, strict=True
            )
        ],
    )
    files.table(
        "udd/course.tsv",
        [
            [cid, title, "H00", cat.UKPRN, d.faculty, d.name, cal.provided_at]
            for d in depts
            for cid, title in d.courses
        ],
    )
    files.table(
        "udd/module.tsv",
        [
            [mid, name, "30", str(level), depts[d].jacs, "1", cal.provided_at]
            for mid, name, level, d in zip(m.ids, m.names, m.level, m.dept, strict=True)
        ],
    )
    day = col.dates(np.array(cal.start_day + cal.end_day)).to_pylist()
    starts, ends = day[: len(cal.years)], day[len(cal.years) :]
    files.table(
        "udd/module_instance.tsv",
        [
            [
                iid,
                m.ids[mod],
                str(cal.years[yi]),
                "FY",
                online,
                f"Main Campus, {depts[m.dept[mod]].building}",
                starts[yi],
                ends[yi],
                cal.provided_at,
            ]
            for iid, mod, yi, online in zip(
                m.instance_ids,
                m.instance_module.tolist(),
                m.instance_year.tolist(),
                m.instance_online,
                strict=True,
            )
        ],
    )
    _write_enrolments(files, cal, depts, s, m, e, seed)


def _write_enrolments(files, cal, depts, s: _Students, m: _Modules, e: _Enrolments, seed: int):
    rng = _stream(seed, 5)
    n = e.student.shape[0]
    a = s.attainment[e.student]
    p_mu, p_e, p_a, p_sd, p_lo, p_hi = model.PASS_MARK
    f_mu, f_e, f_a, f_sd, f_lo, f_hi = model.FAIL_MARK
    pass_mark = np.clip(
        np.round(p_mu + p_e * e.engagement + p_a * a + rng.normal(0, p_sd, n)), p_lo, p_hi
    )
    fail_mark = np.clip(
        np.round(f_mu + f_e * e.engagement + f_a * a + rng.normal(0, f_sd, n)), f_lo, f_hi
    )
    actual = np.where(e.outcome == FAIL, fail_mark, pass_mark).astype(np.int64)
    moderated = rng.random(n) < 0.1
    shift = rng.integers(-3, 4, n)
    lo = np.where(e.outcome == FAIL, f_lo, p_lo)
    hi = np.where(e.outcome == FAIL, f_hi, p_hi)
    agreed = np.where(moderated, np.clip(actual + shift, lo, hi), actual)
    first_year = e.year == 0
    credits_mean = np.where(
        first_year,
        np.array(
            [model.PRINT_CREDITS_FIRST_YEAR[k] for k in ("pass", "fail", "withdrawn")] + [0.0]
        )[e.outcome],
        model.PRINT_CREDITS_LATER,
    )
    credits = rng.poisson(credits_mean)
    marked = (e.outcome == PASS) | (e.outcome == FAIL)
    mark_text = pa.array([""] + [str(v) for v in range(101)])
    grade_index = np.searchsorted([40, 50, 60, 70], agreed, side="right")  # 0 F .. 4 A
    student_ids, instance_ids = col.take(pa.array(s.ids), e.student), pa.array(m.instance_ids)
    instance = col.take(instance_ids, e.instance)
    n_years = len(cal.years)
    course_instance = pa.array(
        [f"{cid}-{year}" for d in depts for cid, _ in d.courses for year in cal.years]
    )
    course_index = ((s.dept * 2 + s.course)[e.student]) * n_years + e.year
    days = col.dates(np.array(cal.start_day + cal.end_day))
    provided = pa.array([cal.provided_at])
    withdrawn = e.outcome == WITHDRAWN
    table = {
        "STUDENT_ON_A_MODULE_INSTANCE_ID": col.join([student_ids, "-", instance]),
        "STUDENT_ID": student_ids,
        "MOD_INSTANCE_ID": instance,
        "COURSE_INSTANCE_ID": col.take(course_instance, course_index),
        "MOD_START_DATE": col.take(days, e.year),
        "MOD_END_DATE": col.take(days, n_years + e.year),
        "MOD_ACTUAL_MARK": col.take(mark_text, np.where(marked, actual + 1, 0)),
        "MOD_AGREED_MARK": col.take(mark_text, np.where(marked, agreed + 1, 0)),
        "MOD_AGREED_GRADE": col.take(
            pa.array(["", "F", "D", "C", "B", "A"]), np.where(marked, grade_index + 1, 0)
        ),
        "MOD_RESULT": col.take(pa.array(["1", "2", "3", "3"]), e.outcome),
        "X_WITHDRAWAL_DATE": pc.if_else(pa.array(withdrawn), col.dates(e.withdrawal_day), ""),
        "X_PRINT_CREDITS": col.ints(credits),
        "PROVIDED_AT": col.take(provided, np.zeros(e.outcome.shape[0], dtype=np.int64)),
    }
    files.arrow("udd/student_on_module.tsv", table)
    risk = np.round(e.risk * 10_000).astype(np.int64)  # 4 decimals; true_risk < 1
    files.arrow(
        "truth/student_outcomes.csv",
        {
            "student_id": student_ids,
            "mod_instance_id": instance,
            "true_risk": col.fixed_strings(
                np.hstack(
                    [
                        col.digit_chars(risk // 10_000, 1),
                        col.const(risk.shape[0], "."),
                        col.digit_chars(risk % 10_000, 4),
                    ]
                )
            ),
            "outcome": col.take(pa.array(list(_OUTCOME_NAMES)), e.outcome),
        },
    )


def _attendance_events(cal, depts, staff: _Staff, m: _Modules, enrolled: np.ndarray, seed: int):
    """Every timetabled event: ``n_inst * slots`` rows, slot = lecture week, or
    ``weeks + week * max_groups + group`` for a seminar group. Returns the slot count,
    start and finish times and the event's TSV columns (everything but the student's)."""
    rng = _stream(seed, 6)
    n_inst = len(m.instance_ids)
    weeks = len(TEACHING_WEEK_DAYS)
    groups = np.maximum(1, -(-enrolled // SEMINAR_GROUP_SIZE))
    max_groups = int(groups.max()) if n_inst else 1
    slots = weeks * (1 + max_groups)
    lecture_day = rng.integers(0, 3, n_inst)
    lecture_hour = rng.integers(8, 15, n_inst)
    capacity = np.maximum(50, -(-enrolled // 50) * 50)

    inst = np.repeat(np.arange(n_inst), slots)
    slot = np.tile(np.arange(slots), n_inst)
    seminar = (slot >= weeks).astype(np.int64)
    week = np.where(seminar == 1, (slot - weeks) // max_groups, slot)
    group = np.where(seminar == 1, (slot - weeks) % max_groups, 0)
    start_of_instance = np.array(cal.start_day)[m.instance_year] * 86400
    start = (
        start_of_instance[inst]
        + np.array(TEACHING_WEEK_DAYS, dtype=np.int64)[week] * 86400
        + (lecture_day[inst] + 2 * seminar) * 86400
        + np.where(seminar == 1, 9 + (2 * group) % 8, lecture_hour[inst]) * 3600
    )
    finish = start + np.where(seminar == 1, 3600, 7200)

    mod = m.instance_module
    leader = np.array([m.leader[i] for i in mod.tolist()], dtype=np.int64)
    # Seminar groups are taught by the department's module leaders in turn.
    tutor = np.array(
        [
            staff.leaders[m.dept[i]][(j + g) % LEADERS_PER_DEPARTMENT]
            for j, i in enumerate(mod.tolist())
            for g in range(max_groups)
        ],
        dtype=np.int64,
    ).reshape(n_inst, max_groups)
    inst_ids = pa.array(m.instance_ids)
    suffix = [f"-L{w + 1:02d}" for w in range(weeks)] + [
        f"-S{w + 1:02d}-G{g + 1}" for w in range(weeks) for g in range(max_groups)
    ]
    kind = ("Lecture", "Seminar")
    columns = {
        "EVENT_ID": col.join([col.take(inst_ids, inst), col.take(pa.array(suffix), slot)]),
        "EVENT_NAME": col.join(
            [
                col.take(pa.array([m.ids[i] for i in mod.tolist()]), inst),
                col.take(
                    pa.array([f" {k} {w + 1}" for k in kind for w in range(weeks)]),
                    seminar * weeks + week,
                ),
            ]
        ),
        "EVENT_DESCRIPTION": col.join(
            [
                col.take(pa.array([m.names[i] for i in mod.tolist()]), inst),
                col.take(
                    pa.array([f": week {w + 1} {k.lower()}" for k in kind for w in range(weeks)]),
                    seminar * weeks + week,
                ),
            ]
        ),
        "EVENT_TYPE": col.take(pa.array([k.upper() for k in kind]), seminar),
        "EVENT_TYPE_DESCRIPTION": col.take(pa.array(kind), seminar),
        "EVENT_MAX_COUNT": col.take(
            pa.array([str(c) for c in capacity.tolist()] + [str(SEMINAR_GROUP_SIZE)]),
            np.where(seminar == 1, n_inst, inst),
        ),
        "EVENT_MANDATORY": col.take(pa.array(["0", "1"]), seminar),
        "START_TIME": col.timestamps(start, "Z"),
        "END_TIME": col.timestamps(finish, "Z"),
        "STAFF_ID": col.take(
            pa.array(staff.ids), np.where(seminar == 1, tutor[inst, group], leader[inst])
        ),
        "MOD_INSTANCE_ID": col.take(inst_ids, inst),
    }
    return slots, max_groups, start, finish, columns


def _write_attendance(
    files, cal, depts, s: _Students, staff: _Staff, m: _Modules, e: _Enrolments, seed
):
    n_inst = len(m.instance_ids)
    enrolled = np.bincount(e.instance, minlength=n_inst)
    slots, max_groups, ev_start, ev_finish, ev_columns = _attendance_events(
        cal, depts, staff, m, enrolled, seed
    )
    weeks = len(TEACHING_WEEK_DAYS)
    rng = _stream(seed, 11)
    # Seminar group: position of the enrolment within its module instance, round robin.
    groups = np.maximum(1, -(-enrolled // SEMINAR_GROUP_SIZE))
    order = np.argsort(e.instance, kind="stable")
    rank = np.empty_like(order)
    first_of = np.searchsorted(e.instance[order], np.arange(n_inst))
    rank[order] = np.arange(order.shape[0]) - first_of[e.instance[order]]
    group = rank % groups[e.instance]
    course_ids = [[cid for cid, _ in d.courses] for d in depts]
    course_instance = pa.array(
        [
            f"{course_ids[int(s.dept[st])][int(s.course[st])]}-{cal.years[yi]}"
            for st, yi in zip(e.student.tolist(), e.year.tolist(), strict=True)
        ]
    )
    student_ids = pa.array(s.ids)
    p_attend = model.sigmoid(model.ATTEND_LOGIT[0] + model.ATTEND_LOGIT[1] * e.engagement)
    end_limit = np.minimum(e.window_end, cal.cutoff - 3600)
    header = HEADERS["attendance/attendance.tsv"]
    options = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    writer = files.open("attendance/attendance.tsv")
    step = 20_000
    for lo in range(0, e.student.shape[0], step):
        idx = np.arange(lo, min(lo + step, e.student.shape[0]))
        enrol = np.repeat(idx, 2 * weeks)
        week = np.tile(np.arange(2 * weeks), idx.shape[0]) // 2
        seminar = np.tile(np.arange(2), idx.shape[0] * weeks)
        slot = np.where(seminar == 1, weeks + week * max_groups + group[enrol], week)
        event = e.instance[enrol] * slots + slot
        ok = (ev_finish[event] <= end_limit[enrol]) & (ev_start[event] >= e.window_start[enrol])
        enrol, event = enrol[ok], event[ok]
        k = enrol.shape[0]
        if not k:
            continue
        attended = rng.random(k) < p_attend[enrol]
        late = attended & (rng.random(k) < model.LATE_SHARE)
        authorised = rng.random(k) < 0.15
        per_row = {
            "STUDENT_ID": col.take(student_ids, e.student[enrol]),
            "EVENT_ATTENDED": col.take(pa.array(["0", "1"]), attended.astype(np.int64)),
            "ATTENDANCE_LATE": col.take(pa.array(["", "0", "1"]), np.where(attended, 1 + late, 0)),
            # Absences are U (unauthorised) or A (authorised); attendances have no category.
            "ATTENDANCE_CATEGORY": col.take(
                pa.array(["U", "A", ""]), np.where(attended, 2, authorised.astype(np.int64))
            ),
            "COURSE_INSTANCE_ID": col.take(course_instance, enrol),
        }
        table = pa.table(
            {
                name: per_row[name] if name in per_row else col.take(ev_columns[name], event)
                for name in header
            }
        )
        # quoting_style "none" also rejects any value holding a tab, newline or quote.
        sink = pa.BufferOutputStream()
        pacsv.write_csv(table, sink, options)
        writer.write(memoryview(sink.getvalue()), rows=k)
    files.close("attendance/attendance.tsv", writer)


def _write_library(files, cal, depts, s: _Students, m: _Modules, e: _Enrolments, seed):
    rng = _stream(seed, 7)
    # A small catalogue per module: six titles each, with fixed barcodes.
    n_mod = len(m.ids)
    barcodes = rng.choice(9 * 10**9, size=n_mod * 6, replace=False) + 10**9
    editions = cat.BOOK_EDITIONS
    titles = [
        f"{m.names[j]}: {cat.BOOK_SUBTITLES[b]}{editions[(j + b) % len(editions)]}"
        for j in range(n_mod)
        for b in range(6)
    ]
    # Loans per (student, year): enrolments of one student-year are contiguous.
    key = e.student * 3 + e.year
    _uniq, first = np.unique(key, return_index=True)
    size = np.diff(np.append(first, key.shape[0]))
    group_of = np.repeat(np.arange(first.shape[0]), size)
    mean_e = np.bincount(group_of, weights=e.engagement) / size
    lo = e.window_start[first]
    hi = np.maximum.reduceat(e.window_end, first)
    loans = rng.poisson(model.LOANS_PER_YEAR * np.exp(model.LOANS_ELASTICITY * mean_e))
    loans[hi - lo < 86400] = 0
    g = np.repeat(np.arange(first.shape[0]), loans)
    k = g.shape[0]
    days = (hi - lo) // 86400
    t = (lo[g] // 86400 + (rng.random(k) * days[g]).astype(np.int64)) * 86400 + rng.integers(
        9 * 3600, 20 * 3600, k
    )
    enrol = first[g] + (rng.random(k) * size[g]).astype(np.int64)
    book = m.instance_module[e.instance[enrol]] * 6 + rng.integers(0, 6, k)
    subtypes = [name for name, _ in cat.LIBRARY_SUBTYPES]
    weights = np.array([w for _, w in cat.LIBRARY_SUBTYPES])
    subtype = rng.choice(len(subtypes), size=k, p=weights / weights.sum())
    laptop = subtype == subtypes.index("LAPTOP")
    item = np.where(laptop, 7_000_000_000 + rng.integers(0, 500, k), barcodes[book])
    student = e.student[enrol]
    sites = [cat.MAIN_LIBRARY, *sorted(set(cat.LIBRARY_BRANCH_BY_FACULTY.values()))]
    branch = np.array(
        [sites.index(cat.LIBRARY_BRANCH_BY_FACULTY.get(d.faculty, cat.MAIN_LIBRARY)) for d in depts]
    )
    site = np.where(rng.random(k) < 0.35, branch[s.dept[student]], 0)
    keep = (t >= lo[g]) & (t < hi[g])
    order = np.lexsort((t, g))
    order = order[keep[order]]
    files.arrow(
        "library/borrowed.tsv",
        {
            "USERNAME": col.take(pa.array(s.usernames), student[order]),
            "ITEM_ID": col.ints(item[order]),
            "ITEM_NAME": col.take(
                pa.array([*titles, "Laptop loan (4 hour)"]),
                np.where(laptop, len(titles), book)[order],
            ),
            "ITEM_SUBTYPE": col.take(pa.array(subtypes), subtype[order]),
            "BORROWING_SITE": col.take(pa.array(sites), site[order]),
            "TIMESTAMP": col.timestamps(t[order], "Z"),
        },
    )


def _write_notes(
    files, cal, depts, s, staff: _Staff, m: _Modules, e: _Enrolments, seed, template_set
):
    rs = _pystream(seed, "notes")
    rng = _stream(seed, 8)
    n = len(s.ids)
    risk_sum = np.bincount(e.student, weights=e.risk, minlength=n)
    count = np.bincount(e.student, minlength=n)
    mean_risk = np.divide(risk_sum, count, out=np.zeros(n), where=count > 0)
    per_student = rng.poisson(model.NOTES_PER_STUDENT[0] + model.NOTES_PER_STUDENT[1] * mean_risk)
    starts = np.searchsorted(e.student, np.arange(n + 1))
    course_titles = [[title for _, title in d.courses] for d in depts]
    ninos: dict[int, str] = {}
    records, truths = [], []
    for st in range(n):
        for _ in range(int(per_student[st])):
            mine = range(int(starts[st]), int(starts[st + 1]))
            if not mine:
                break
            i = rs.choice(mine)
            lo, hi = int(e.window_start[i]), int(min(e.window_end[i], cal.cutoff - 3600))
            if hi - lo < 3600:
                continue
            created = rs.randrange(lo, hi)
            mod = int(m.instance_module[e.instance[i]])
            d = int(s.dept[st])
            author = s.tutor[st] if rs.random() < 0.75 else m.leader[mod]
            mentioned = [staff.members[j] for j in (*staff.leaders[d], *staff.support)]
            subject = notes.Subject(
                notes.Person(s.first[st], s.last[st], s.title[st]),
                s.ids[st],
                s.email[st],
                s.mobile_digits[st],
                s.postcode[st],
                s.dob[st],
                ninos.setdefault(st, people.nino(rs)),
            )
            setting = notes.Setting(
                m.ids[mod], m.names[mod], course_titles[d][int(s.course[st])], m.level[mod]
            )
            written = (datetime(1970, 1, 1) + timedelta(seconds=created)).date()
            text, spans = notes.compose_note(rs, template_set, subject, mentioned, setting, written)
            note_id = f"CN{len(records) + 1:07d}"
            records.append(
                {
                    "note_id": note_id,
                    "student_id": s.ids[st],
                    "staff_id": staff.ids[author],
                    "created_at": _iso_z(created),
                    "text": text,
                }
            )
            truths.append({"note_id": note_id, "spans": spans})
    files.jsonl("notes/case_notes.jsonl", records)
    files.jsonl("truth/note_pii_spans.jsonl", truths)


_GRANT_RATE = {"intervention": 0.88}
_DEFAULT_GRANT_RATE = 0.7
_WITHDRAW_RATE = 0.10
_LATE_GRANT_RATE = 0.05


def _write_consent(files, cal, s: _Students, e: _Enrolments, seed):
    """Events for purposes whose lawful basis is consent (`requires_consent` in policy)."""
    rs = _pystream(seed, "consent")
    purposes = [p["name"] for p in policy.purposes() if p.get("requires_consent")]
    events = []
    for st, sid in enumerate(s.ids):
        enrolled = (
            _epoch_day(_academic_start(int(s.cohort[st]))) - rs.randint(3, 14)
        ) * 86400 + rs.randrange(8 * 3600, 22 * 3600)
        for purpose in purposes:
            rate = _GRANT_RATE.get(purpose, _DEFAULT_GRANT_RATE)
            if rs.random() < rate:
                events.append((enrolled + rs.randrange(3600), sid, purpose, "grant"))
                if rs.random() < _WITHDRAW_RATE:
                    when = rs.randrange(enrolled + 86400, cal.cutoff - 3600)
                    events.append((when, sid, purpose, "withdraw"))
            elif rs.random() < _LATE_GRANT_RATE:
                when = rs.randrange(enrolled + 86400, cal.cutoff - 3600)
                events.append((when, sid, purpose, "grant"))
    events.sort(key=lambda ev: (ev[0], ev[1], ev[2]))
    files.table(
        "consent/consent_events.csv",
        [
            (f"CE{i + 1:08d}", sid, purpose, action, _iso_z(t))
            for i, (t, sid, purpose, action) in enumerate(events)
        ],
    )


def _write_requests(files, cal, s: _Students, seed):
    rs = _pystream(seed, "requests")
    n = min(len(s.ids), max(3, round(len(s.ids) * 0.005)))
    chosen = rs.sample(range(len(s.ids)), k=n)
    kinds = ["access", "erasure", "rectification"] + [
        people.weighted(rs, (("access", 50.0), ("erasure", 20.0), ("rectification", 30.0)))
        for _ in range(n - 3)
    ]
    records = []
    for st, kind in zip(chosen, kinds, strict=False):
        field = value = None
        if kind == "rectification":
            field = rs.choice(("POSTCODE", "LAST_NAME", "MOBILE_PHONE"))
            value = {
                "POSTCODE": lambda: people.any_postcode(rs),
                "LAST_NAME": lambda: people.person_name(rs, "gb", "2")[1],
                "MOBILE_PHONE": lambda: people.mobile(rs, ("spaced",)),
            }[field]()
        records.append(
            {
                "request_id": "",
                "student_id": s.ids[st],
                "request_type": kind,
                "received_at": _iso_z(cal.cutoff - rs.randrange(3600, 45 * 86400)),
                "field": field,
                "new_value": value,
            }
        )
    records.sort(key=lambda r: r["received_at"])
    for i, record in enumerate(records):
        record["request_id"] = f"SR{i + 1:05d}"
    files.jsonl("requests/subject_requests.jsonl", records)


# --- VLE -------------------------------------------------------------------------------


def _structured_events(seed, m_due, m_quiz, s: _Students, e: _Enrolments) -> dict[str, np.ndarray]:
    """Assignment submissions and quiz completions: one statement each."""
    rng = _stream(seed, 9)
    n = e.student.shape[0]
    day = 86400
    parts = []
    p_submit = model.sigmoid(model.SUBMIT_LOGIT[0] + model.SUBMIT_LOGIT[1] * e.engagement)
    for a in range(vle.ASSIGNMENTS_PER_MODULE):
        due = m_due[e.instance, a]
        late = rng.random(n) < 0.07
        t = np.where(
            late,
            due + rng.integers(60, 3 * day, n),
            due - rng.exponential(1.5 * day, n).astype(np.int64) - 60,
        )
        keep = (rng.random(n) < p_submit) & (t >= e.window_start) & (t < e.window_end)
        parts.append(
            (np.flatnonzero(keep), vle.ASSIGNMENT, a, t[keep], np.zeros(keep.sum(), np.int64))
        )
    p_quiz = model.sigmoid(model.QUIZ_LOGIT[0] + model.QUIZ_LOGIT[1] * e.engagement)
    q_mu, q_e, q_a, q_sd = model.QUIZ_SCORE
    score = np.clip(
        np.round(
            q_mu
            + q_e * e.engagement
            + q_a * s.attainment[e.student]
            + rng.normal(0, q_sd, (vle.QUIZZES_PER_MODULE, n))
        ),
        0,
        100,
    ).astype(np.int64)
    for q in range(vle.QUIZZES_PER_MODULE):
        t = m_quiz[e.instance, q] + rng.integers(3600, 6 * day, n)
        keep = (rng.random(n) < p_quiz) & (t >= e.window_start) & (t < e.window_end)
        parts.append((np.flatnonzero(keep), vle.QUIZ, q, t[keep], score[q][keep]))
    enrol = np.concatenate([p[0] for p in parts])
    out = {
        "enrol": enrol,
        "kind": np.concatenate([np.full(p[0].shape[0], p[1]) for p in parts]),
        "item": np.concatenate([np.full(p[0].shape[0], p[2]) for p in parts]),
        "t": np.concatenate([p[3] for p in parts]).astype(np.int64),
        "score": np.concatenate([p[4] for p in parts]),
    }
    order = np.lexsort((out["t"], out["enrol"]))
    return {k: v[order] for k, v in out.items()}


def _vle_tasks(
    seed: int,
    out_dir: Path,
    s: _Students,
    m: _Modules,
    e: _Enrolments,
    cal: _Calendar,
    vle_statements: int | None,
) -> tuple[list[vle.ShardTask], int]:
    start_of_instance = np.array(cal.start_day)[m.instance_year] * 86400
    due = start_of_instance[:, None] + (np.array(ASSIGNMENT_DUE_DAYS) * 86400 + 16 * 3600)[None, :]
    quiz = start_of_instance[:, None] + (np.array(QUIZ_OPEN_DAYS) * 86400 + 9 * 3600)[None, :]
    structured = _structured_events(seed, due, quiz, s, e)
    rng = _stream(seed, 10)
    k = structured["enrol"].shape[0]
    active = (e.window_end - e.window_start) / (e.module_end - e.window_start)
    intensity = np.exp(model.VLE_ELASTICITY * e.engagement)
    weight = active * intensity / intensity.mean() if intensity.size else intensity
    if vle_statements is None:
        sessions = round(model.VLE_STATEMENTS_PER_MODULE * float(weight.sum()))
    elif vle_statements < k:
        keep = np.sort(rng.choice(k, size=vle_statements, replace=False))
        structured = {name: arr[keep] for name, arr in structured.items()}
        sessions = 0
    else:
        sessions = vle_statements - k
    if sessions and weight.sum() > 0:
        counts = rng.multinomial(sessions, weight / weight.sum())
    else:
        counts = np.zeros(e.student.shape[0], dtype=np.int64)
    total = int(counts.sum()) + structured["enrol"].shape[0]

    catalogue = vle.ModuleCatalogue(
        key=hashlib.sha256("\n".join(m.instance_ids).encode() + due.tobytes()).hexdigest(),
        instance_ids=m.instance_ids,
        module_ids=[m.ids[i] for i in m.instance_module.tolist()],
        module_names=[m.names[i] for i in m.instance_module.tolist()],
        starts=start_of_instance,
        assignment_due=due,
        quiz_open=quiz,
    )
    per_enrol = counts + np.bincount(structured["enrol"], minlength=counts.shape[0])
    n_shards = max(1, math.ceil(total / SHARD_STATEMENTS))
    cum = np.cumsum(per_enrol)
    cuts = [0, *np.searchsorted(cum, [total * j / n_shards for j in range(1, n_shards)]).tolist()]
    cuts.append(counts.shape[0])
    tasks = []
    for shard in range(n_shards):
        lo, hi = cuts[shard], cuts[shard + 1]
        a, b = np.searchsorted(structured["enrol"], [lo, hi])
        part = {name: arr[a:b].copy() for name, arr in structured.items()}
        part["enrol"] -= lo
        tasks.append(
            vle.ShardTask(
                shard=shard,
                out_dir=str(out_dir),
                seed=seed,
                student_ids=s.ids,
                catalogue=catalogue,
                student=e.student[lo:hi],
                instance=e.instance[lo:hi],
                window_start=e.window_start[lo:hi],
                window_end=e.window_end[lo:hi],
                session_statements=counts[lo:hi],
                structured=part,
            )
        )
    return tasks, total


class _VleRun:
    """Shards written by a process pool while the parent writes everything else."""

    def __init__(self, tasks: list[vle.ShardTask], workers: int, progress: Progress) -> None:
        self.tasks = tasks
        self.progress = progress
        self.done = 0
        self.statements = 0
        self.pool = None
        self.pending = []
        can_fork = not multiprocessing.current_process().daemon
        if workers > 1 and len(tasks) > 1 and can_fork:
            self.pool = multiprocessing.get_context("spawn").Pool(min(workers, len(tasks)))
            self.pending = [
                self.pool.apply_async(vle.write_shard, (t,), callback=self._report) for t in tasks
            ]

    def _report(self, result: dict) -> None:
        self.done += 1
        self.statements += result["statements"]
        self.progress(
            f"vle: {self.done}/{len(self.tasks)} shards, {self.statements:,} statements written"
        )

    def results(self) -> list[dict]:
        if self.pool is None:
            out = []
            for task in self.tasks:
                out.append(vle.write_shard(task))
                self._report(out[-1])
            return out
        results = [p.get() for p in self.pending]
        self.pool.close()
        self.pool.join()
        self.pool = None
        return results

    def abandon(self) -> None:
        """Stop the workers after a failure (no-op once results were collected)."""
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None


_SHARD_FILE = re.compile(r"^(xapi|moodle|lrs)-\d{4}\.jsonl$")


IGNORE_FILE = ".stewardignore"


def _remove_stale_shards(out_dir: Path, keep: set[str]) -> None:
    folder = out_dir / "vle"
    if folder.is_dir():
        for path in folder.iterdir():
            if _SHARD_FILE.match(path.name) and f"vle/{path.name}" not in keep:
                path.unlink()


# --- entry point -----------------------------------------------------------------------


def generate(
    out_dir: Path,
    students: int,
    seed: int,
    *,
    vle_statements: int | None = None,
    as_of: date = date(2026, 11, 1),
    note_template_set: str = "tuning",
    progress: Progress | None = None,
    workers: int | None = None,
) -> dict:
    """Write a synthetic institution's extracts and ground truth into ``out_dir``.

    ``vle_statements`` is the total number of xAPI statements (default: about 150 per
    full-length student-module, scaled by engagement and time active). ``workers``
    processes write the VLE shards (default: up to 2). Returns a summary without
    personal data: the arguments, statement count and rows per file.
    """
    if students < 1:
        raise ValueError(f"students must be at least 1, got {students}")
    if vle_statements is not None and vle_statements < 0:
        raise ValueError(f"vle_statements must be zero or more, got {vle_statements}")
    if note_template_set not in notes.TEMPLATE_SETS:
        raise ValueError(
            f"note_template_set must be one of {', '.join(notes.TEMPLATE_SETS)}, "
            f"got {note_template_set!r}"
        )
    say = progress or (lambda _msg: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    cal = _calendar(as_of)
    files = _Files(out_dir)

    n_depts = min(len(cat.DEPARTMENTS), max(2, math.ceil(students / 2500)))
    depts = cat.DEPARTMENTS[:n_depts]
    s = _make_students(seed, students, cal, n_depts)
    dept_sizes = np.bincount(s.dept, minlength=n_depts).tolist()
    staff = _make_staff(seed, dept_sizes, students)
    rs = _pystream(seed, "tutors")
    s.tutor = [rs.choice(staff.tutors[d]) for d in s.dept.tolist()]
    m = _make_modules(seed, depts, staff, cal.years)
    e = _make_enrolments(seed, s, m, cal)
    say(
        f"institution: {students:,} students, {len(staff.ids):,} staff, "
        f"{e.student.shape[0]:,} student-modules"
    )

    tasks, total = _vle_tasks(seed, out_dir, s, m, e, cal, vle_statements)
    _remove_stale_shards(
        out_dir, {f"vle/{f}-{t.shard:04d}.jsonl" for t in tasks for f in vle.FORMS}
    )
    say(f"vle: writing {total:,} statements in {len(tasks)} shards")
    run = _VleRun(tasks, workers, say)
    try:
        _write_udd(files, cal, depts, s, staff, m, e, seed)
        say("udd: written")
        _write_attendance(files, cal, depts, s, staff, m, e, seed)
        say(f"attendance: {files.results['attendance/attendance.tsv']['rows']:,} rows")
        _write_library(files, cal, depts, s, m, e, seed)
        _write_notes(files, cal, depts, s, staff, m, e, seed, note_template_set)
        say(f"notes: {files.results['notes/case_notes.jsonl']['rows']:,} case notes")
        _write_consent(files, cal, s, e, seed)
        _write_requests(files, cal, s, seed)
        running = (cal.end_day[-1] + 1) * 86400 > cal.cutoff
        files.text("truth/README.md", model.readme(cal.years, as_of.isoformat(), running))
        shard_results = run.results()
    finally:
        run.abandon()
    statements = 0
    for result in shard_results:
        files.results.update(result["files"])
        statements += result["statements"]

    summary = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "students": students,
        "as_of": as_of.isoformat(),
        "note_template_set": note_template_set,
        "vle_statements": statements,
        "files": {rel: files.results[rel]["rows"] for rel in sorted(files.results)},
    }
    manifest = {**summary, "files": {rel: files.results[rel] for rel in sorted(files.results)}}
    (out_dir / "manifest.json").write_bytes(
        orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
    )
    # The ground truth is the generator's, not the institution's: ingest must skip it.
    (out_dir / IGNORE_FILE).write_text(
        "# not extracts: ground truth and the manifest\ntruth/\nmanifest.json\n"
    )
    return summary

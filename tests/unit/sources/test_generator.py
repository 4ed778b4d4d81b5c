"""The synthetic institution generator: determinism, file contract, referential
integrity, identifier validity, time bounds, PII ground truth and the outcome model."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import defaultdict
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest

from steward import identifiers, policy
from steward.sources import _notes, generator
from steward.sources.generator import generate, iter_case_notes

AS_OF = date(2026, 11, 1)
CUTOFF = datetime(2026, 11, 1).timestamp()

EXPECTED_HEADERS = {
    "udd/student.tsv": "STUDENT_ID USERNAME ULN HUSID FIRST_NAME LAST_NAME DOB SEXID ETHNICITY "
    "DIFFLEARN1 DOMICILE OVERSEAS POSTCODE PRIMARY_EMAIL_ADDRESS MOBILE_PHONE SOCIO_EC "
    "TUTOR_STAFF_ID PROVIDED_AT X_FEE_STATUS X_RELIGION X_CARELEAVER X_IMD_QUINTILE "
    "ENTRY_QUALS ENTRY_POINTS ENTRY_POINTS_SCHEMA",
    "udd/staff.tsv": "STAFF_ID FIRST_NAME LAST_NAME PRIMARY_EMAIL_ADDRESS X_ROLE PROVIDED_AT",
    "udd/course.tsv": "COURSE_ID TITLE COURSE_AIM AWARDING_BODY INST_TIER_1 INST_TIER_2 "
    "PROVIDED_AT",
    "udd/module.tsv": "MOD_ID MOD_NAME MOD_CREDITS MOD_LEVEL MOD_SUBJECT CREDIT_BEARING PROVIDED_AT",
    "udd/module_instance.tsv": "MOD_INSTANCE_ID MOD_ID MOD_ACADEMIC_YEAR MOD_PERIOD MOD_ONLINE "
    "MOD_LOCATION X_START_DATE X_END_DATE PROVIDED_AT",
    "udd/student_on_module.tsv": "STUDENT_ON_A_MODULE_INSTANCE_ID STUDENT_ID MOD_INSTANCE_ID "
    "COURSE_INSTANCE_ID MOD_START_DATE MOD_END_DATE MOD_ACTUAL_MARK MOD_AGREED_MARK "
    "MOD_AGREED_GRADE MOD_RESULT X_WITHDRAWAL_DATE X_PRINT_CREDITS PROVIDED_AT",
    "attendance/attendance.tsv": "STUDENT_ID EVENT_ID EVENT_NAME EVENT_DESCRIPTION EVENT_TYPE "
    "EVENT_TYPE_DESCRIPTION EVENT_MAX_COUNT EVENT_MANDATORY START_TIME END_TIME EVENT_ATTENDED "
    "ATTENDANCE_LATE ATTENDANCE_CATEGORY STAFF_ID MOD_INSTANCE_ID COURSE_INSTANCE_ID",
    "library/borrowed.tsv": "USERNAME ITEM_ID ITEM_NAME ITEM_SUBTYPE BORROWING_SITE TIMESTAMP",
    "consent/consent_events.csv": "EVENT_ID STUDENT_ID PURPOSE ACTION OCCURRED_AT",
    "truth/student_outcomes.csv": "student_id mod_instance_id true_risk outcome",
}
JSONL_FILES = (
    "notes/case_notes.jsonl",
    "truth/note_pii_spans.jsonl",
    "requests/subject_requests.jsonl",
    "vle/xapi-0000.jsonl",
    "vle/moodle-0000.jsonl",
    "vle/lrs-0000.jsonl",
)
VERBS = {
    "https://brindlewaye.com/xAPITerms/verbs/loggedin",
    "http://id.tincanapi.com/verb/viewed",
    "http://activitystrea.ms/schema/1.0/create",
    "http://adlnet.gov/expapi/verbs/completed",
}
COURSE_AREA = "http://xapi.jisc.ac.uk/courseArea"
VLE_MOD_ID = "http://xapi.jisc.ac.uk/vle_mod_id"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _digest(p) for p in root.rglob("*") if p.is_file()}


def _rows(root: Path, rel: str) -> list[dict[str, str]]:
    delimiter = "," if rel.endswith(".csv") else "\t"
    with (root / rel).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE))


def _jsonl(root: Path, rel: str) -> list[dict]:
    return [orjson.loads(line) for line in (root / rel).read_bytes().splitlines()]


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _statement(line: bytes) -> dict:
    """The xAPI statement inside any of the three export forms, keys unescaped."""
    record = orjson.loads(line.replace(b"&46;", b"."))
    return record.get("statement", record)


@pytest.fixture(scope="module")
def institution(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("institution")
    messages: list[str] = []
    generate(root, 200, 11, as_of=AS_OF, progress=messages.append)
    assert any(m.startswith("vle:") for m in messages)
    return root


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("twin")
    generate(root, 200, 11, as_of=AS_OF)
    return root


@pytest.fixture(scope="module")
def statements(institution) -> list[tuple[str, bytes, dict]]:
    """(form, raw line, statement) for every VLE statement."""
    out = []
    for path in sorted((institution / "vle").glob("*.jsonl")):
        form = path.name.split("-")[0]
        out += [(form, line, _statement(line)) for line in path.read_bytes().splitlines()]
    return out


@pytest.fixture(scope="module")
def enrolments(institution) -> dict[tuple[str, str], dict[str, str]]:
    return {
        (r["STUDENT_ID"], r["MOD_INSTANCE_ID"]): r
        for r in _rows(institution, "udd/student_on_module.tsv")
    }


def test_when_seed_repeats_then_every_file_is_byte_identical(institution, twin):
    first, second = _tree(institution), _tree(twin)
    assert first == second
    assert (
        len(first) == len(EXPECTED_HEADERS) + len(JSONL_FILES) + 3
    )  # + README, manifest, .stewardignore


def test_when_seed_differs_then_files_differ(institution, tmp_path):
    generate(tmp_path, 200, 12, as_of=AS_OF, vle_statements=5_000)
    for rel in ("udd/student.tsv", "udd/student_on_module.tsv", "notes/case_notes.jsonl"):
        assert _digest(tmp_path / rel) != _digest(institution / rel), rel


def test_when_shards_are_written_by_two_processes_then_bytes_match_one_process(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(generator, "SHARD_STATEMENTS", 5_000)
    one, two = tmp_path / "one", tmp_path / "two"
    summary = generate(one, 40, 5, vle_statements=12_000, workers=1)
    generate(two, 40, 5, vle_statements=12_000, workers=2)
    assert summary["vle_statements"] == 12_000
    assert sorted(p.name for p in (one / "vle").iterdir())[-1] == "xapi-0002.jsonl"
    assert _tree(one) == _tree(two)


def test_every_file_exists_with_its_exact_header(institution):
    for rel, header in EXPECTED_HEADERS.items():
        first_line = (institution / rel).open(encoding="utf-8").readline().rstrip("\n")
        delimiter = "," if rel.endswith(".csv") else "\t"
        assert first_line.split(delimiter) == header.split(), rel
    for rel in JSONL_FILES:
        assert (institution / rel).stat().st_size > 0, rel
    assert (institution / "truth/README.md").read_text().startswith("# Ground truth")


def test_jisc_recipe_headers_match_the_published_tsv(institution, shared_data):
    recipes = shared_data / "xapi/jisc/recipes"
    for rel, published in (
        ("attendance/attendance.tsv", recipes / "attendance/tsv/attendance.tsv"),
        ("library/borrowed.tsv", recipes / "library/tsv/borrowed.tsv"),
    ):
        ours = (institution / rel).open().readline().rstrip("\n").split("\t")
        assert ours == published.open().readline().rstrip("\n").split("\t")


def test_udd_columns_are_udd_fields_or_extensions(institution, shared_data):
    udd = json.loads((shared_data / "jisc_udd/udd.json").read_text())
    entity = {
        "udd/student.tsv": "student",
        "udd/staff.tsv": "staff",
        "udd/course.tsv": "course",
        "udd/module.tsv": "module",
        "udd/module_instance.tsv": "module_instance",
        "udd/student_on_module.tsv": "student_on_a_module_instance",
    }
    # Each student has one course: the course membership's entry fields ride along.
    membership = set(udd["student_course_membership"])
    for rel, name in entity.items():
        fields = set(udd[name]) | (membership if name == "student" else set())
        for column in EXPECTED_HEADERS[rel].split():
            assert column.startswith("X_") or column in fields, (rel, column)


def test_delimited_rows_have_one_value_per_column(institution):
    for rel, header in EXPECTED_HEADERS.items():
        delimiter = "," if rel.endswith(".csv") else "\t"
        width = len(header.split())
        lines = (institution / rel).read_text(encoding="utf-8").splitlines()
        assert len(lines) > 1, rel
        assert all(line.count(delimiter) == width - 1 for line in lines), rel
        assert '"' not in "".join(lines), rel


def test_codes_come_from_the_udd_code_lists(institution):
    students = _rows(institution, "udd/student.tsv")
    for column in ("SEXID", "ETHNICITY", "DIFFLEARN1", "DOMICILE", "OVERSEAS", "SOCIO_EC"):
        allowed = policy.codelist(column)
        assert {s[column] for s in students} <= set(allowed), column
    assert {s["X_CARELEAVER"] for s in students} <= set(policy.codelist("CARELEAVER"))
    assert {s["X_FEE_STATUS"] for s in students} <= {"home", "overseas", "eu"}
    assert {s["X_IMD_QUINTILE"] for s in students} <= {"1", "2", "3", "4", "5"}
    assert {"No religion", "Prefer not to say"} <= {s["X_RELIGION"] for s in students}
    assert {s["ENTRY_QUALS"] for s in students} <= set(policy.codelist("ENTRY_QUALS"))
    assert {s["ENTRY_POINTS_SCHEMA"] for s in students} == {"UCAS_17", ""}
    results = {r["MOD_RESULT"] for r in _rows(institution, "udd/student_on_module.tsv")}
    assert results == set(policy.codelist("MOD_RESULT"))


def test_student_identifiers_are_well_formed_and_unique(institution):
    students = _rows(institution, "udd/student.tsv")
    ulns = [s["ULN"] for s in students if s["ULN"]]
    assert len(ulns) > 150
    assert all(identifiers.uln_check_digit_ok(u) for u in ulns)
    assert all(identifiers.husid_ok(s["HUSID"]) for s in students)
    assert all(re.fullmatch(r"S\d{7}", s["STUDENT_ID"]) for s in students)
    assert all(identifiers.uk_postcode_ok(s["POSTCODE"]) for s in students)
    assert all(
        re.fullmatch(r"(07\d{3} ?\d{6}|\+44 ?7\d{3} ?\d{6})", s["MOBILE_PHONE"]) for s in students
    )
    for column in ("STUDENT_ID", "USERNAME", "HUSID", "PRIMARY_EMAIL_ADDRESS"):
        assert len({s[column] for s in students}) == len(students), column
    assert {s["POSTCODE"].split()[0].rstrip("0123456789") for s in students} & {"CF", "SA", "LL"}


def test_every_referenced_id_exists(institution, statements):
    students = {s["STUDENT_ID"] for s in _rows(institution, "udd/student.tsv")}
    usernames = {s["USERNAME"] for s in _rows(institution, "udd/student.tsv")}
    staff = {s["STAFF_ID"] for s in _rows(institution, "udd/staff.tsv")}
    modules = {r["MOD_ID"] for r in _rows(institution, "udd/module.tsv")}
    instances = {r["MOD_INSTANCE_ID"]: r for r in _rows(institution, "udd/module_instance.tsv")}
    assert {r["MOD_ID"] for r in instances.values()} <= modules
    enrol = _rows(institution, "udd/student_on_module.tsv")
    assert {r["STUDENT_ID"] for r in enrol} == students
    assert {r["MOD_INSTANCE_ID"] for r in enrol} <= set(instances)
    attendance = _rows(institution, "attendance/attendance.tsv")
    assert {r["STUDENT_ID"] for r in attendance} <= students
    assert {r["STAFF_ID"] for r in attendance} <= staff
    assert {r["TUTOR_STAFF_ID"] for r in _rows(institution, "udd/student.tsv")} <= staff
    assert {r["USERNAME"] for r in _rows(institution, "library/borrowed.tsv")} <= usernames
    assert {s["actor"]["account"]["name"] for _f, _r, s in statements} <= students
    notes = _jsonl(institution, "notes/case_notes.jsonl")
    assert {n["student_id"] for n in notes} <= students
    assert {n["staff_id"] for n in notes} <= staff
    assert {r["STUDENT_ID"] for r in _rows(institution, "consent/consent_events.csv")} <= students
    requests = _jsonl(institution, "requests/subject_requests.jsonl")
    assert {r["student_id"] for r in requests} <= students
    truth = _rows(institution, "truth/student_outcomes.csv")
    assert {(t["student_id"], t["mod_instance_id"]) for t in truth} == {
        (r["STUDENT_ID"], r["MOD_INSTANCE_ID"]) for r in enrol
    }


def test_no_event_is_dated_on_or_after_as_of(institution, statements):
    stamps = [s["timestamp"] for _f, _r, s in statements]
    stamps += [s["stored"] for _f, _r, s in statements if "stored" in s]
    for rel, columns in (
        ("attendance/attendance.tsv", ("START_TIME", "END_TIME")),
        ("library/borrowed.tsv", ("TIMESTAMP",)),
        ("consent/consent_events.csv", ("OCCURRED_AT",)),
        ("udd/student.tsv", ("PROVIDED_AT", "DOB")),
        ("udd/student_on_module.tsv", ("PROVIDED_AT", "X_WITHDRAWAL_DATE", "MOD_START_DATE")),
    ):
        stamps += [row[c] for row in _rows(institution, rel) for c in columns if row[c]]
    stamps += [n["created_at"] for n in _jsonl(institution, "notes/case_notes.jsonl")]
    stamps += [r["received_at"] for r in _jsonl(institution, "requests/subject_requests.jsonl")]
    assert all(t.endswith(("Z", "+00:00")) or len(t) == 10 for t in stamps)
    assert max(_ts(t) if len(t) > 10 else _ts(t + "T00:00:00Z") for t in stamps) < CUTOFF


def test_statements_follow_the_jisc_recipes(statements):
    forms = defaultdict(int)
    for form, line, st in statements:
        forms[form] += 1
        assert st["verb"]["id"] in VERBS
        assert st["actor"]["objectType"] == "Agent"
        assert st["actor"]["account"]["homePage"] == "https://vle.example.ac.uk"
        assert re.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", st["id"]
        )
        ext = st["context"]["extensions"]
        assert "http://xapi.jisc.ac.uk/sessionId" in ext
        assert "http://id.tincanapi.com/extension/ip-address" in ext
        is_login = st["verb"]["id"].endswith("loggedin")
        assert is_login or ext[COURSE_AREA][VLE_MOD_ID]
        if form == "moodle":
            assert b"&46;" in line and {"authority", "stored"} <= set(st)
        if form == "lrs":
            assert set(orjson.loads(line)) >= {"_id", "statement", "stored"}
    total = sum(forms.values())
    assert 0.45 < forms["xapi"] / total < 0.55
    assert 0.25 < forms["moodle"] / total < 0.35
    assert 0.15 < forms["lrs"] / total < 0.25
    assert len({st["id"] for _f, _r, st in statements}) == total


def test_statements_only_for_enrolled_students_within_module_dates(statements, enrolments):
    kinds = defaultdict(int)
    for _form, _record, st in statements:
        area = st["context"]["extensions"].get(COURSE_AREA)
        if not area:
            continue
        kinds[st["object"]["definition"]["type"]] += 1
        row = enrolments[(st["actor"]["account"]["name"], area[VLE_MOD_ID])]
        when = st["timestamp"][:10]
        assert row["MOD_START_DATE"] <= when <= row["MOD_END_DATE"]
        assert not row["X_WITHDRAWAL_DATE"] or when < row["X_WITHDRAWAL_DATE"]
    assert {
        "http://adlnet.gov/expapi/activities/course",
        "http://xapi.jisc.ac.uk/vle/page",
        "http://adlnet.gov/expapi/activities/assessment",
        "http://xapi.jisc.ac.uk/forum-post",
        "http://xapi.jisc.ac.uk/vle/quiz",
    } <= set(kinds)


def test_running_presentation_has_no_results_yet(institution):
    truth = {
        (t["student_id"], t["mod_instance_id"]): t
        for t in _rows(institution, "truth/student_outcomes.csv")
    }
    running = [
        r
        for r in _rows(institution, "udd/student_on_module.tsv")
        if r["MOD_INSTANCE_ID"].endswith("-2026")
    ]
    assert running
    for row in running:
        assert row["MOD_RESULT"] == "3" and row["MOD_ACTUAL_MARK"] == row["MOD_AGREED_GRADE"] == ""
        outcome = truth[(row["STUDENT_ID"], row["MOD_INSTANCE_ID"])]["outcome"]
        assert outcome == ("withdrawn" if row["X_WITHDRAWAL_DATE"] else "")
    years = {r["MOD_ACADEMIC_YEAR"] for r in _rows(institution, "udd/module_instance.tsv")}
    assert years == {"2024", "2025", "2026"}


def test_observed_fail_or_withdraw_rate_rises_with_true_risk(institution):
    done = [t for t in _rows(institution, "truth/student_outcomes.csv") if t["outcome"]]
    done.sort(key=lambda t: float(t["true_risk"]))
    quarter = len(done) // 4
    rates, risks = [], []
    for i in range(4):
        part = done[i * quarter : (i + 1) * quarter]
        rates.append(sum(t["outcome"] != "pass" for t in part) / len(part))
        risks.append(sum(float(t["true_risk"]) for t in part) / len(part))
    assert rates == sorted(rates) and rates[0] < rates[-1] - 0.2
    assert all(abs(r - p) < 0.1 for r, p in zip(rates, risks, strict=True))


def test_entry_tariff_is_banded_incomplete_and_lower_for_students_at_higher_risk(institution):
    students = _rows(institution, "udd/student.tsv")
    tariff = {"P50", "P41", "P62", "X00"}
    recorded = [s for s in students if s["ENTRY_POINTS"]]
    assert all(
        s["ENTRY_QUALS"] in tariff and s["ENTRY_POINTS_SCHEMA"] == "UCAS_17" for s in recorded
    )
    assert all(int(s["ENTRY_POINTS"]) % 4 == 0 for s in recorded)  # sums of grade points
    assert 0.6 < len(recorded) / len(students) < 0.85  # no tariff, or not recorded
    assert all(not s["ENTRY_POINTS"] for s in students if s["ENTRY_QUALS"] not in tariff)
    assert {s["ENTRY_QUALS"] for s in students if s["X_FEE_STATUS"] == "overseas"} <= {
        "P62",
        "P80",
        "X06",
    }
    # Derived from the same latent attainment as the outcome: the lowest tariff third
    # carries more true risk than the highest.
    points = {s["STUDENT_ID"]: int(s["ENTRY_POINTS"]) for s in recorded}
    risks = defaultdict(list)
    for t in _rows(institution, "truth/student_outcomes.csv"):
        if t["student_id"] in points:
            risks[t["student_id"]].append(float(t["true_risk"]))
    ranked = sorted(risks, key=points.__getitem__)
    third = len(ranked) // 3

    def mean_risk(ids: list[str]) -> float:
        return sum(sum(risks[i]) / len(risks[i]) for i in ids) / len(ids)

    assert mean_risk(ranked[:third]) > mean_risk(ranked[-third:]) + 0.08


def test_print_credits_track_outcome_only_in_the_first_presentation(institution):
    rows = _rows(institution, "udd/student_on_module.tsv")

    def gap(year: str) -> float:
        by = defaultdict(list)
        for r in rows:
            if r["MOD_INSTANCE_ID"].endswith(year) and r["MOD_RESULT"] in ("1", "2"):
                by[r["MOD_RESULT"]].append(int(r["X_PRINT_CREDITS"]))
        return sum(by["1"]) / len(by["1"]) - sum(by["2"]) / len(by["2"])

    assert gap("2024") > 15
    assert abs(gap("2025")) < 6


def test_consent_events_name_consent_purposes(institution):
    events = _rows(institution, "consent/consent_events.csv")
    consent_purposes = {p["name"] for p in policy.purposes() if p.get("requires_consent")}
    assert {e["PURPOSE"] for e in events} == consent_purposes
    assert {e["ACTION"] for e in events} == {"grant", "withdraw"}
    granted = {
        e["STUDENT_ID"] for e in events if e["PURPOSE"] == "intervention" and e["ACTION"] == "grant"
    }
    withdrew = {
        e["STUDENT_ID"]
        for e in events
        if e["PURPOSE"] == "intervention" and e["ACTION"] == "withdraw"
    }
    assert 0.75 < len(granted) / 200 < 0.97
    assert 0.03 < len(withdrew) / len(granted) < 0.2
    assert [e["EVENT_ID"] for e in events] == sorted(e["EVENT_ID"] for e in events)


def test_subject_requests_cover_each_type(institution):
    requests = _jsonl(institution, "requests/subject_requests.jsonl")
    assert {r["request_type"] for r in requests} == {"access", "erasure", "rectification"}
    for r in requests:
        assert (r["field"] is not None) == (r["request_type"] == "rectification")
        assert (r["new_value"] is not None) == (r["request_type"] == "rectification")


def test_manifest_matches_the_files(institution):
    manifest = json.loads((institution / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["students"] == 200
    assert manifest["as_of"] == "2026-11-01"
    for rel, entry in manifest["files"].items():
        data = (institution / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), rel
        header = 1 if rel in EXPECTED_HEADERS else 0
        if not rel.endswith(".md"):
            assert entry["rows"] == data.count(b"\n") - header, rel


_PATTERNS = {
    "EMAIL_ADDRESS": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    "STUDENT_ID": r"\bS\d{7}\b",
    "UK_NINO": r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
    "UK_POSTCODE": r"\b[A-Z]{1,2}\d{1,2}[A-Z]? \d[A-Z]{2}\b",
    "UK_PHONE": r"(?:\+44 ?(?:\(0\))?|\b0)\d{2,4}[ \d]{6,10}\d",
}


_DATE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)? [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4}"
    r"|\d{2}[./]\d{2}[./]\d{4}|\d{4}-\d{2}-\d{2})\b"
)
_BIRTH_CUE = re.compile(r"born|birth|DOB|d\.o\.b", re.IGNORECASE)


def _covered(spans: list[dict], entity: str, start: int, end: int) -> bool:
    return any(s["entity_type"] == entity and s["start"] <= start < end <= s["end"] for s in spans)


def _assert_spans_exact_and_complete(text: str, spans: list[dict]) -> None:
    previous_end = 0
    for span in sorted(spans, key=lambda s: s["start"]):
        assert text[span["start"] : span["end"]] == span["text"]
        assert span["entity_type"] in _notes.ENTITY_TYPES
        assert span["start"] >= previous_end, "spans overlap"
        previous_end = span["end"]
    for entity, pattern in _PATTERNS.items():
        for match in re.finditer(pattern, text):
            assert _covered(spans, entity, match.start(), match.end()), (
                f"unlabelled {entity} {match.group()!r} in {text!r}"
            )
    # A date right after a birth cue is a date of birth; any other date (a meeting, a
    # deadline) must not be labelled as one.
    for match in _DATE.finditer(text):
        is_dob = bool(_BIRTH_CUE.search(text[max(0, match.start() - 30) : match.start()]))
        assert _covered(spans, "DATE_OF_BIRTH", match.start(), match.end()) is is_dob, (
            f"{match.group()!r} in {text!r}"
        )


def test_case_note_spans_slice_and_cover_every_planted_identifier(institution):
    notes = {n["note_id"]: n for n in _jsonl(institution, "notes/case_notes.jsonl")}
    truths = _jsonl(institution, "truth/note_pii_spans.jsonl")
    assert [t["note_id"] for t in truths] == list(notes)
    students = {s["STUDENT_ID"]: s for s in _rows(institution, "udd/student.tsv")}
    for truth in truths:
        note = notes[truth["note_id"]]
        assert 150 <= len(note["text"]) <= 600
        _assert_spans_exact_and_complete(note["text"], truth["spans"])
        student = students[note["student_id"]]
        full = f"{student['FIRST_NAME']} {student['LAST_NAME']}"
        titled = rf"\b(?:Mr|Ms|Miss|Mrs|Mx) ({re.escape(student['LAST_NAME'])})\b"
        for match in re.finditer(rf"\b{re.escape(full)}\b", note["text"]):
            assert _covered(truth["spans"], "PERSON", match.start(), match.end())
        for match in re.finditer(titled, note["text"]):
            assert _covered(truth["spans"], "PERSON", match.start(1), match.end(1))
        persons = {s["text"] for s in truth["spans"] if s["entity_type"] == "PERSON"}
        assert persons & {student["FIRST_NAME"], student["LAST_NAME"], full}


@pytest.mark.parametrize("template_set", ["tuning", "holdout"])
def test_iter_case_notes_is_deterministic_and_labelled(template_set):
    first = list(iter_case_notes(3, 300, template_set))
    assert first == list(iter_case_notes(3, 300, template_set))
    seen = defaultdict(int)
    for note, spans in first:
        _assert_spans_exact_and_complete(note["text"], spans)
        for span in spans:
            seen[span["entity_type"]] += 1
        if any(s["entity_type"] == "DATE_OF_BIRTH" for s in spans):
            assert re.search(r"born|birth|DOB|d\.o\.b", note["text"], re.IGNORECASE)
    assert set(seen) == set(_notes.ENTITY_TYPES)
    assert all(
        identifiers.nino_ok(s["text"])
        for _n, spans in first
        for s in spans
        if s["entity_type"] == "UK_NINO"
    )


def test_tuning_and_holdout_share_no_template():
    tuning = {t for part in _notes.TEMPLATES["tuning"].values() for t in part}
    holdout = {t for part in _notes.TEMPLATES["holdout"].values() for t in part}
    assert tuning and holdout and not tuning & holdout
    for bank in (tuning, holdout):
        slots = set().union(*(_notes.template_slots(t) for t in bank))
        assert {_notes.ENTITY_BY_SLOT[s] for s in slots if s in _notes.ENTITY_BY_SLOT} == set(
            _notes.ENTITY_TYPES
        )


def _opening(template: str) -> re.Pattern[str]:
    literal = re.sub(r"\\\{\w+\\\}", ".+?", re.escape(template))
    return re.compile(literal)


def test_institution_notes_use_the_chosen_template_set(tmp_path):
    generate(tmp_path, 40, 2, vle_statements=0, note_template_set="holdout")
    holdout = [_opening(t) for t in _notes.TEMPLATES["holdout"]["open"]]
    tuning = [_opening(t) for t in _notes.TEMPLATES["tuning"]["open"]]
    texts = [n["text"] for n in _jsonl(tmp_path, "notes/case_notes.jsonl")]
    assert texts
    for text in texts:
        assert any(p.match(text) for p in holdout), text
        assert not any(p.match(text) for p in tuning), text
    assert (tmp_path / "vle/xapi-0000.jsonl").read_bytes() == b""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"students": 0}, "students must be at least 1"),
        ({"vle_statements": -1}, "vle_statements must be zero or more"),
        ({"note_template_set": "both"}, "note_template_set must be one of tuning, holdout"),
    ],
)
def test_when_arguments_are_invalid_then_a_clear_error(tmp_path, kwargs, message):
    args = {"students": 10, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, args.pop("students"), args.pop("seed"), **args)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("9276308686", True), ("9276308687", False), ("0276308686", False), ("927630868", False)],
)
def test_uln_check_digit(value, ok):
    assert identifiers.uln_check_digit_ok(value) is ok


def test_uln_stems_with_remainder_zero_have_no_check_digit():
    stem = next(
        str(n)
        for n in range(100_000_000, 100_001_000)
        if sum(int(d) * w for d, w in zip(str(n), range(10, 1, -1), strict=True)) % 11 == 0
    )
    assert identifiers.uln_check_digit(stem) is None


@pytest.mark.parametrize(
    ("check", "value", "ok"),
    [
        (identifiers.nhs_number_ok, "943 476 5919", True),
        (identifiers.nhs_number_ok, "9434765918", False),
        (identifiers.nino_ok, "AB 12 34 56 C", True),
        (identifiers.nino_ok, "GB123456A", False),
        (identifiers.nino_ok, "DA123456A", False),
        (identifiers.uk_postcode_ok, "CF10 3AT", True),
        (identifiers.uk_postcode_ok, "Q1 1AA", False),
        (identifiers.husid_ok, "2409990123450", True),  # 1,3 weights: sum 110, check 0
        (identifiers.husid_ok, "2409990123457", False),
    ],
)
def test_identifier_checks(check, value, ok):
    assert check(value) is ok

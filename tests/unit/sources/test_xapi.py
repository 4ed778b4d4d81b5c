"""xAPI as institutions export it: every Jisc Moodle and Blackboard example maps to the
right actor, verb, object and time; recipe templates that are not JSON are rejected with a
reason naming the file, never a traceback."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from steward.ingest import ingest
from steward.sources import parse_file

BB = "https://jisc.blackboard.com"
BB_GRADES = "/webapps/gradebook/do/instructor/enterGradeCenter?course_id=_{}_1&cvid=fullGC#"
MOODLE = "https://moodle.data.alpha.jisc.ac.uk"
VIEWED = "http://id.tincanapi.com/verb/viewed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
SCORED = "http://adlnet.gov/expapi/verbs/scored"
LOGGEDIN = "https://brindlewaye.com/xAPITerms/verbs/loggedin"
LOGGEDOUT = "https://brindlewaye.com/xAPITerms/verbs/loggedout"

# file under xapi/jisc/vle/ -> actor account, verb, object id, timestamp, source format
EXAMPLES = [
    ("moodle/assignment_submitted.json", "stu1", COMPLETED,
     f"{MOODLE}/mod/assign/view.php?id=16", "2017-11-17T10:11:20+00:00", "moodle_export"),
    ("moodle/asssignment_graded.json", "stu1", SCORED,
     f"{MOODLE}/mod/assign/view.php?id=33", "2017-11-17T10:23:26+00:00", "moodle_export"),
    ("moodle/login.js", "stu1", LOGGEDIN, MOODLE, "2017-11-06T11:48:23+00:00", "moodle_export"),
    ("moodle/logout.js", "stu1", LOGGEDOUT, MOODLE, "2017-11-06T11:50:47+00:00",
     "moodle_export"),
    ("moodle/moduleview.js", "mwebb", VIEWED, f"{MOODLE}/mod/page/view.php?id=21",
     "2017-10-31T13:51:47+00:00", "moodle_export"),
    ("blackboard/assignment_graded.json", "jisc1", SCORED,
     "https://blackboard.jisc.ac.uk" + BB_GRADES.format(12345), "2019-01-01T00:00:00.000Z",
     "lrs_envelope"),
    ("blackboard/assignment_submitted.json", "12345678", COMPLETED,
     BB + BB_GRADES.format(12345), "2019-01-01T00:00:00.000Z", "lrs_envelope"),
    ("blackboard/attempt_completed.json", "mkratchounov", COMPLETED,
     BB + BB_GRADES.format(461), "2017-10-16T12:31:16.000Z", "moodle_export"),
    ("blackboard/attempt_started.json", "test1", "http://activitystrea.ms/schema/1.0/start",
     "https://services-uswest.skytap.com:27219" + BB_GRADES.format(47),
     "2016-02-05T17:59:45.000Z", "xapi"),
    ("blackboard/course_access.json", "12345678", VIEWED,
     f"{BB}/webapps/blackboard/execute/courseMain?course_id=123456&sc=",
     "2019-01-01T00:00:00.000Z", "lrs_envelope"),
    ("blackboard/course_content_access.json", "12345678", VIEWED,
     f"{BB}/webapps/blackboard/content/listContent.jsp?content_id=123456id&course_id=123456",
     "2019-01-01T00:00:00.000Z", "lrs_envelope"),
    ("blackboard/loggedin.json", "12345678", LOGGEDIN, f"{BB}/webapps/login/",
     "2019-01-01T00:00:00.000Z", "lrs_envelope"),
    ("blackboard/loggedout.json", "12345678", LOGGEDOUT, f"{BB}/webapps/login/",
     "2019-01-01T00:00:00.000Z", "lrs_envelope"),
]  # fmt: skip

# The recipe templates holding placeholders instead of JSON values.
INVALID_TEMPLATES = {
    "attendance/uxapi/attendance-template.json",
    "case/uxapi/case-close-activity-input.json",
    "case/uxapi/case-create-activity-input.json",
    "case/uxapi/case-update-activity-input.json",
    "studyapps/uxapi/app-answered-question-template.json",
    "studyapps/uxapi/app-content-viewed.json",
    "video/uxapi/video-viewed-template.json",
    "vle/uxapi/vle-answered-questions-template.json",
}


@pytest.fixture(scope="module")
def jisc(shared_data: Path) -> Path:
    return shared_data / "xapi" / "jisc"


def templates(jisc: Path) -> list[str]:
    recipes = jisc / "recipes"
    return sorted(str(p.relative_to(recipes)) for p in recipes.glob("*/uxapi/*.json"))


def test_when_the_vle_examples_are_listed_then_each_has_expected_values(jisc):
    vle = jisc / "vle"
    on_disk = {str(p.relative_to(vle)) for p in vle.glob("*/*") if p.suffix in {".json", ".js"}}
    assert on_disk == {example[0] for example in EXAMPLES}


@pytest.mark.parametrize(
    ("file", "actor", "verb_iri", "object_id", "timestamp", "source_format"),
    EXAMPLES,
    ids=[example[0] for example in EXAMPLES],
)
def test_when_a_jisc_vle_example_is_parsed_then_actor_verb_object_and_time_are_read(
    jisc, file, actor, verb_iri, object_id, timestamp, source_format
):
    parsed = parse_file(jisc / "vle" / file)
    assert parsed["_problems"] == []
    (event,) = parsed["vle_events"]
    assert (event["student_id"], event["verb_iri"], event["object_id"], event["occurred_at"]) == (
        actor,
        verb_iri,
        object_id,
        timestamp,
    )
    assert (event["source_format"], event["_error"]) == (source_format, None)


@pytest.mark.parametrize("template", INVALID_TEMPLATES)
def test_when_a_template_is_not_json_then_parsing_reports_it_without_a_traceback(jisc, template):
    parsed = parse_file(jisc / "recipes" / template)
    assert parsed["vle_events"] == []
    (problem,) = parsed["_problems"]
    assert problem["reason"].startswith("not valid JSON")
    assert "Traceback" not in problem["reason"]


def test_when_a_template_is_valid_json_then_no_json_problem_is_reported(jisc):
    valid = [t for t in templates(jisc) if t not in INVALID_TEMPLATES]
    assert len(valid) + len(INVALID_TEMPLATES) == len(templates(jisc))
    for template in valid:
        parsed = parse_file(jisc / "recipes" / template)
        assert parsed["_problems"] == [], template
        assert parsed["vle_events"], template
        assert all(e["_error"] is None for e in parsed["vle_events"]), template


def test_when_the_templates_are_ingested_then_the_invalid_ones_are_quarantined_by_file_name(
    steward_home, jisc
):
    lines: list[str] = []
    recipes = jisc / "recipes"
    ingest(sorted(recipes.glob("*/uxapi/*.json")), progress=lines.append)
    con = duckdb.connect(str(steward_home / "identified.duckdb"), read_only=True)
    try:
        rows = con.execute(
            "select source_file, reason from raw.quarantine where reason like 'not valid JSON%'"
        ).fetchall()
    finally:
        con.close()
    assert {str(Path(f).relative_to(recipes)) for f, _ in rows} == INVALID_TEMPLATES
    assert not any("Traceback" in reason for _, reason in rows)
    for template in INVALID_TEMPLATES:
        (line,) = [text for text in lines if text.startswith(str(recipes / template))]
        assert "*: not valid JSON" in line


# result.score as sent -> score_scaled read (scaled wins; raw is placed between min and max)
SCORES = [
    ('{"scaled": 0.72, "raw": 72, "min": 0, "max": 100}', 0.72),
    ('{"raw": 30, "min": 20, "max": 70}', 0.2),
    ('{"raw": 72}', None),
    (None, None),
]


@pytest.mark.parametrize(("score", "scaled"), SCORES, ids=["scaled", "raw", "raw-only", "none"])
def test_when_a_statement_carries_a_result_score_then_its_scaled_score_is_read(
    tmp_path, score, scaled
):
    result = f', "result": {{"score": {score}}}' if score else ""
    statement = (
        '{"id": "s1", "actor": {"account": {"name": "S1"}}, '
        f'"verb": {{"id": "{COMPLETED}"}}, "object": {{"id": "q1"}}, '
        f'"timestamp": "2024-11-01T10:00:00Z"{result}}}'
    )
    (tmp_path / "quiz.jsonl").write_text(statement + "\n")
    (event,) = parse_file(tmp_path / "quiz.jsonl")["vle_events"]
    read = event["score_scaled"]
    assert (None if read is None else pytest.approx(float(read))) == scaled

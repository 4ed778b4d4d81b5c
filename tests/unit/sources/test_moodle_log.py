"""Moodle standard log exports: with and without the later `anonymous` column, verbs from
eventnames, user ids resolved through students.vle_id, and what must not be attributed."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from steward import stores
from steward.ingest import create_schema, ingest
from steward.sources import detect, parse_file

COLUMNS = (
    "id,eventname,component,action,target,objecttable,objectid,crud,edulevel,contextid,"
    "contextlevel,contextinstanceid,userid,courseid,relateduserid,anonymous,other,timecreated,"
    "origin,ip,realuserid"
).split(",")

# (id, eventname, component, action, target, objecttable, objectid, crud, edulevel,
#  contextid, contextlevel, contextinstanceid, userid, courseid, relateduserid, anonymous,
#  other, timecreated, origin, ip, realuserid); MySQL-style NULLs as exported by a dump.
EVENTS = [
    ("1001", r"\core\event\user_loggedin", "core", "loggedin", "user", "user", "7", "r", "0",
     "1", "10", "0", "7", "0", "NULL", "0", '{"username":"stu1"}', "1700000000", "web",
     "10.3.3.48", "NULL"),
    ("1002", r"\core\event\course_viewed", "core", "viewed", "course", "NULL", "NULL", "r",
     "2", "25", "50", "4", "7", "4", "NULL", "0", "NULL", "1700000060", "web", "10.3.3.48",
     "NULL"),
    ("1003", r"\mod_page\event\course_module_viewed", "mod_page", "viewed", "course_module",
     "page", "3", "r", "2", "31", "70", "21", "7", "4", "NULL", "0", "NULL", "1700000120",
     "web", "10.3.3.48", "NULL"),
    ("1004", r"\mod_assign\event\assessable_submitted", "mod_assign", "submitted",
     "assessable", "assign_submission", "12", "u", "2", "40", "70", "16", "7", "4", "NULL",
     "0", '{"submission_editable":false}', "1700000180", "web", "10.3.3.48", "NULL"),
    ("1005", r"\mod_forum\event\post_created", "mod_forum", "created", "post", "forum_posts",
     "88", "c", "2", "41", "70", "17", "8", "4", "NULL", "0",
     '{"discussionid":"9","forumid":"2","forumtype":"general"}', "1700000240", "web",
     "10.3.3.49", "NULL"),
    ("1006", r"\mod_quiz\event\attempt_submitted", "mod_quiz", "submitted", "attempt",
     "quiz_attempts", "5", "u", "2", "42", "70", "18", "7", "4", "7", "0",
     '{"quizid":"3","submitterid":"7"}', "1700000300", "web", "10.3.3.48", "NULL"),
    ("1007", r"\core\event\dashboard_viewed", "core", "viewed", "dashboard", "NULL", "NULL",
     "r", "0", "5", "30", "7", "7", "0", "NULL", "0", "NULL", "1700000360", "web",
     "10.3.3.48", "NULL"),
    ("1008", r"\mod_page\event\course_module_viewed", "mod_page", "viewed", "course_module",
     "page", "3", "r", "2", "31", "70", "21", "7", "4", "NULL", "0", "NULL", "1700000420",
     "web", "10.3.3.1", "2"),
]  # fmt: skip
ANONYMOUS_EVENT = (
    "1009", r"\mod_feedback\event\response_submitted", "mod_feedback", "submitted",
    "response", "feedback_completed", "4", "c", "2", "43", "70", "19", "7", "4", "NULL", "1",
    '{"anonymous":true}', "1700000480", "web", "10.3.3.48", "NULL",
)  # fmt: skip

VERBS = {
    "moodle-log:1001": "https://brindlewaye.com/xAPITerms/verbs/loggedin",
    "moodle-log:1002": "http://id.tincanapi.com/verb/viewed",
    "moodle-log:1003": "http://id.tincanapi.com/verb/viewed",
    "moodle-log:1004": "http://activitystrea.ms/schema/1.0/submit",
    "moodle-log:1005": "http://activitystrea.ms/schema/1.0/post",
    "moodle-log:1006": "http://adlnet.gov/expapi/verbs/completed",
    "moodle-log:1007": None,
    "moodle-log:1008": "http://id.tincanapi.com/verb/viewed",
}


def write_log(folder: Path, name: str, *, with_anonymous: bool) -> Path:
    """A logstore_standard_log export as `mysql ... | csv` or Moodle's admin download writes it."""
    keep = [i for i, c in enumerate(COLUMNS) if with_anonymous or c != "anonymous"]
    rows = [*EVENTS, ANONYMOUS_EVENT] if with_anonymous else EVENTS
    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([COLUMNS[i] for i in keep])
        writer.writerows([row[i] for i in keep] for row in rows)
    return path


@pytest.fixture(params=[True, False], ids=["with_anonymous", "without_anonymous"])
def log(request, tmp_path: Path) -> Path:
    return write_log(tmp_path, "logstore_standard_log.csv", with_anonymous=request.param)


def quiet(_message: str) -> None:
    pass


def test_when_a_moodle_log_is_detected_then_the_moodle_adapter_reads_it(log):
    adapter, delimiter = detect(log)
    assert (adapter.name, delimiter) == ("moodle_log", ",")


def test_when_a_moodle_log_is_parsed_then_each_event_maps_its_verb(log):
    rows = parse_file(log)["vle_events"]
    assert {r["statement_id"]: r["verb_iri"] for r in rows if r["statement_id"] in VERBS} == VERBS


def test_when_a_moodle_log_is_parsed_then_the_event_fields_are_canonical(log):
    first, _, module_view, *_ = parse_file(log)["vle_events"]
    assert first == {
        "_line": 2,
        "statement_id": "moodle-log:1001",
        "student_id": "moodle-user:7",  # no store to resolve Moodle's user id against
        "verb_iri": "https://brindlewaye.com/xAPITerms/verbs/loggedin",
        "verb": "loggedin",
        "object_id": "moodle:site",
        "object_type": "core",
        "occurred_at": "2023-11-14T22:13:20Z",
        "platform": "Moodle",
        "ip_address": "10.3.3.48",
        "event_count": "1",
        "source_format": "moodle_log",
        "_error": None,
    }
    assert module_view["object_id"] == "moodle:cm:21"


def test_when_an_event_was_anonymous_then_it_is_quarantined_without_a_student(tmp_path):
    log = write_log(tmp_path, "log.csv", with_anonymous=True)
    anonymous = parse_file(log)["vle_events"][-1]
    assert anonymous["statement_id"] == "moodle-log:1009"
    assert (anonymous["student_id"], anonymous["ip_address"]) == (None, None)
    assert anonymous["_error"].startswith("anonymous event")


def test_when_a_moodle_log_is_ingested_then_known_users_load_and_the_rest_are_quarantined(
    steward_home, log
):
    with stores.connect("identified") as con:
        create_schema(con)
        con.execute("insert into raw.students (student_id, vle_id) values ('S0000001', '7')")
    summary = ingest([log], progress=quiet)

    con = duckdb.connect(str(steward_home / "identified.duckdb"), read_only=True)
    try:
        loaded = con.execute(
            "select statement_id, student_id, verb, occurred_at::varchar "
            "from raw.vle_events order by _line"
        ).fetchall()
        quarantined = dict(
            con.execute(
                "select line, string_agg(field || ': ' || reason, '; ' order by field) "
                "from raw.quarantine group by line"
            ).fetchall()
        )
    finally:
        con.close()
    assert loaded == [
        ("moodle-log:1001", "S0000001", "loggedin", "2023-11-14 22:13:20+00"),
        ("moodle-log:1002", "S0000001", "viewed", "2023-11-14 22:14:20+00"),
        ("moodle-log:1003", "S0000001", "viewed", "2023-11-14 22:15:20+00"),
        ("moodle-log:1004", "S0000001", "submitted", "2023-11-14 22:16:20+00"),
        ("moodle-log:1006", "S0000001", "completed", "2023-11-14 22:18:20+00"),
    ]
    assert quarantined[6] == "student_id: unknown student"  # userid 8 is no student's vle_id
    assert "verb_iri: required value missing" in quarantined[8]  # dashboard_viewed: no verb
    assert quarantined[9] == "*: done by another user logged in as this user"
    if "anonymous" in log.read_text().splitlines()[0]:
        assert quarantined[10].startswith("*: anonymous event")
    assert summary.totals()["rows_in"] == len(loaded) + len(quarantined)

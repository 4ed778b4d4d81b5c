"""Moodle's standard log (`logstore_standard_log`) exported as CSV with a header row.

Columns follow the table definition (admin/tool/log/store/standard/db/install.xml); exports
from Moodle versions before the `anonymous` column parse the same way. `NULL` and `\\N`
(how MySQL dumps write NULL) count as missing.

- statement_id is `moodle-log:<id>`, so a re-export of the same events is recognised.
- The verb comes from the eventname (table below). Other events get no verb and the
  contract quarantines them: they are kept, not guessed at.
- Moodle's `userid` is its internal number, resolved through `raw.students.vle_id`; when no
  student has that VLE id the row names `moodle-user:<userid>` and is quarantined as an
  unknown student.
- Anonymous events (`anonymous` = 1) are quarantined without a student: Moodle promised
  the user they would not be identified. So are events done by someone "logged in as" the
  user (`realuserid` set), which the student did not do.
- occurred_at is `timecreated` (Unix seconds) in UTC. Moodle's course ids have no mapping to
  module instances yet, so module_instance_id stays empty.
"""

from __future__ import annotations

from steward.contracts import XAPI_VERBS
from steward.sources.base import Adapter
from steward.sources.lookup import raw_lookup

COLUMNS = (
    "id",
    "eventname",
    "component",
    "action",
    "target",
    "objecttable",
    "objectid",
    "crud",
    "edulevel",
    "contextid",
    "contextlevel",
    "contextinstanceid",
    "userid",
    "courseid",
    "relateduserid",
    "anonymous",
    "other",
    "timecreated",
    "origin",
    "ip",
    "realuserid",
)

_IRI = {short: iri for iri, short in XAPI_VERBS.items()}
EVENT_VERBS = {
    r"\core\event\user_loggedin": _IRI["loggedin"],
    r"\core\event\user_loggedout": _IRI["loggedout"],
    r"\core\event\course_viewed": _IRI["viewed"],
    r"\mod_assign\event\assessable_submitted": _IRI["submitted"],
    r"\mod_forum\event\discussion_created": _IRI["posted"],
    r"\mod_forum\event\post_created": _IRI["posted"],
    r"\mod_quiz\event\attempt_submitted": _IRI["completed"],
}
# Every activity module logs a view of itself as \mod_<name>\event\course_module_viewed.
MODULE_VIEWED = r"\event\course_module_viewed"

_EVENT_CASE = " ".join(f"when '{event}' then '{iri}'" for event, iri in EVENT_VERBS.items())
_VERB_CASE = " ".join(f"when '{iri}' then '{short}'" for iri, short in XAPI_VERBS.items())
_CLEANED = ", ".join(f"nullif(nullif(\"{c}\", 'NULL'), '\\N') as {c}" for c in COLUMNS)

# Students by Moodle user id; a user id shared by two students resolves to neither.
_USERS = raw_lookup(
    """select vle_id, min(student_id) as student_id, count(distinct student_id) as matches
    from raw.students where vle_id is not null group by vle_id""",
    {"vle_id": "varchar", "student_id": "varchar", "matches": "bigint"},
)

EVENTS_SQL = f"""
with s as (
    select _line, {_CLEANED} from src
),
events as (
    select s.*,
        coalesce(s.anonymous, '0') <> '0' as is_anonymous,
        case '\\' || ltrim(s.eventname, '\\') {_EVENT_CASE}
            else if(ends_with(s.eventname, '{MODULE_VIEWED}'), '{_IRI["viewed"]}', null)
        end as verb_iri,
        users.student_id as known_student_id,
        users.matches
    from s
    left join {_USERS} as users on users.vle_id = s.userid
)
select _line,
    'moodle-log:' || id as statement_id,
    case when not is_anonymous then coalesce(known_student_id, 'moodle-user:' || userid) end
        as student_id,
    verb_iri,
    case verb_iri {_VERB_CASE} end as verb,
    case contextlevel
        when '10' then 'moodle:site'
        when '50' then 'moodle:course:' || contextinstanceid
        when '70' then 'moodle:cm:' || contextinstanceid
        else 'moodle:context:' || contextid
    end as object_id,
    component as object_type,
    coalesce(
        -- try(): a timecreated too large for a timestamp is left for the contract to reject
        strftime(try(make_timestamp(try_cast(timecreated as bigint) * 1000000)), '%Y-%m-%dT%H:%M:%SZ'),
        timecreated
    ) as occurred_at,
    'Moodle' as platform,
    if(is_anonymous, null, ip) as ip_address,
    '1' as event_count,
    'moodle_log' as source_format,
    case
        when is_anonymous then 'anonymous event: Moodle promised not to identify the user'
        when realuserid is not null then 'done by another user logged in as this user'
        when matches > 1 then 'userid is the vle_id of more than one student'
    end as _error
from events
"""

ADAPTERS = (
    Adapter(
        name="moodle_log",
        framing="delimited",
        targets={"vle_events": EVENTS_SQL},
        signature=frozenset({"id", "eventname", "component", "userid", "timecreated", "crud"}),
        reads=frozenset(COLUMNS),
        suffixes=(".csv",),
        description="Moodle logstore_standard_log export (with or without `anonymous`)",
    ),
)

"""The canonical raw schema: every adapter maps its format into these tables, and ingest
validates every row against the declared contract before it reaches the identified zone.

A rule failure quarantines the row with the file, line, field and reason; nothing is dropped.
Types are DuckDB types; adapters deliver every column as text and validation casts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from steward import policy

# xAPI verbs the Jisc recipes use (vocabulary.md and recipes/); anything else is quarantined.
XAPI_VERBS = {
    "http://id.tincanapi.com/verb/viewed": "viewed",
    "https://brindlewaye.com/xAPITerms/verbs/loggedin": "loggedin",
    "https://brindlewaye.com/xAPITerms/verbs/loggedout": "loggedout",
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/scored": "scored",
    "http://adlnet.gov/expapi/verbs/answered": "answered",
    "http://adlnet.gov/expapi/verbs/attended": "attended",
    "http://adlnet.gov/expapi/verbs/attempted": "attempted",
    "http://adlnet.gov/expapi/verbs/experienced": "experienced",
    "https://w3id.org/xapi/adl/verbs/abandoned": "abandoned",
    "http://activitystrea.ms/schema/1.0/submit": "submitted",
    "http://activitystrea.ms/schema/1.0/create": "created",
    "http://activitystrea.ms/schema/1.0/post": "posted",
    "http://activitystrea.ms/schema/1.0/access": "accessed",
    "http://activitystrea.ms/schema/1.0/start": "started",
    "http://activitystrea.ms/schema/1.0/borrowed": "borrowed",
    "http://activitystrea.ms/schema/1.0/interact": "interacted",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "VARCHAR"
    required: bool = False
    codes: str | None = None  # a code list in include/policies/codelists.yaml
    values: tuple[str, ...] | None = None  # an inline list of accepted values
    ref: str | None = None  # "table.column" that must already hold the value
    min: float | None = None
    max: float | None = None
    past: bool = False  # a date or timestamp: not in the future, not before 1900
    max_length: int | None = None

    def accepted(self) -> tuple[str, ...] | None:
        if self.codes:
            return tuple(policy.codelist(self.codes))
        return self.values


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    unique: str | None = None  # a column whose repeats (in the file or already loaded) quarantine
    order: int = 50  # load order within a folder: referenced tables first
    lineage: tuple[str, ...] = field(default=("_source_file", "_file_hash", "_line", "_loaded_at"))

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no column {name!r}")


def _c(name: str, type_: str = "VARCHAR", **rules) -> Column:
    return Column(name, type_, **rules)


STUDENT = "students.student_id"
MODULE_INSTANCE = "module_instances.module_instance_id"

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "students",
            (
                _c("student_id", required=True, max_length=64),
                _c("username", max_length=64),
                _c("vle_id", max_length=64),
                _c("uln", max_length=10),
                _c("husid", max_length=13),
                _c("first_name", max_length=200),
                _c("last_name", max_length=200),
                _c("birth_date", "DATE", past=True),
                _c("sex", codes="SEXID"),
                _c("ethnicity", codes="ETHNICITY"),
                _c("disability", codes="DIFFLEARN1"),
                _c("domicile", codes="DOMICILE"),
                _c("overseas", codes="OVERSEAS"),
                _c("postcode", max_length=10),
                _c("email", max_length=320),
                _c("phone", max_length=32),
                _c("socio_economic", codes="SOCIO_EC"),
                _c("tutor_staff_id", max_length=64),
                _c("fee_status", values=("home", "eu", "overseas")),
                _c("religion", max_length=64),
                _c("care_leaver", codes="CARELEAVER"),
                _c("imd_quintile", "INTEGER", min=1, max=5),
                _c("region", max_length=100),
                _c("highest_education", max_length=100),
                _c("age_band", max_length=20),
                _c("imd_band", max_length=20),
                # UDD student_course_membership: entry qualification and UCAS tariff points.
                _c("entry_quals", codes="ENTRY_QUALS"),
                _c("entry_points", "INTEGER", min=0, max=999),
                _c("entry_points_schema", codes="ENTRY_POINTS_SCHEMA"),
                _c("provided_at", "TIMESTAMPTZ", past=True),
            ),
            order=10,
        ),
        Table(
            "staff",
            (
                _c("staff_id", required=True, max_length=64),
                _c("first_name", max_length=200),
                _c("last_name", max_length=200),
                _c("email", max_length=320),
                _c("role", max_length=100),
                _c("provided_at", "TIMESTAMPTZ", past=True),
            ),
            order=10,
        ),
        Table(
            "courses",
            (
                _c("course_id", required=True, max_length=64),
                _c("title", max_length=255),
                _c("course_aim", max_length=255),
                _c("awarding_body", max_length=255),
                _c("inst_tier_1", max_length=255),
                _c("inst_tier_2", max_length=255),
                _c("provided_at", "TIMESTAMPTZ", past=True),
            ),
            order=10,
        ),
        Table(
            "modules",
            (
                _c("module_id", required=True, max_length=64),
                _c("module_name", max_length=255),
                _c("credits", "INTEGER", min=0, max=360),
                _c("level", max_length=16),
                _c("subject", max_length=255),
                _c("provided_at", "TIMESTAMPTZ", past=True),
            ),
            order=10,
        ),
        Table(
            "module_instances",
            (
                _c("module_instance_id", required=True, max_length=64),
                _c("module_id", required=True, max_length=64),
                _c("academic_year", "INTEGER", min=1990, max=2100),
                _c("period", max_length=32),
                _c("online", codes="MOD_ONLINE"),
                _c("location", max_length=100),
                _c("start_date", "DATE", required=True),
                _c("end_date", "DATE", required=True),
                _c("provided_at", "TIMESTAMPTZ", past=True),
            ),
            order=20,
        ),
        Table(
            "enrolments",
            (
                _c("enrolment_id", required=True, max_length=128),
                _c("student_id", required=True, ref=STUDENT),
                _c("module_instance_id", required=True, ref=MODULE_INSTANCE),
                _c("course_instance_id", max_length=64),
                _c("start_date", "DATE"),
                _c("end_date", "DATE"),
                _c("actual_mark", "DOUBLE", min=0, max=100),
                _c("agreed_mark", "DOUBLE", min=0, max=100),
                _c("agreed_grade", max_length=16),
                _c("result", codes="MOD_RESULT"),
                _c("withdrawal_date", "DATE", past=True),
                _c("registration_date", "DATE"),
                _c("prior_attempts", "INTEGER", min=0, max=20),
                _c("studied_credits", "INTEGER", min=0, max=1000),
                _c("print_credits", "INTEGER", min=0, max=100000),
                _c("provided_at", "TIMESTAMPTZ", past=True),
            ),
            order=30,
        ),
        Table(
            "assessments",
            (
                _c("assessment_id", required=True, max_length=64),
                _c("module_instance_id", required=True, ref=MODULE_INSTANCE),
                _c("assessment_type", max_length=32),
                _c("due_date", "DATE"),
                _c("weight", "DOUBLE", min=0, max=100),
            ),
            order=30,
        ),
        Table(
            "assessment_results",
            (
                _c("assessment_id", required=True, ref="assessments.assessment_id"),
                _c("student_id", required=True, ref=STUDENT),
                _c("submitted_date", "DATE"),
                _c("is_banked", "BOOLEAN"),
                _c("score", "DOUBLE", min=0, max=100),
            ),
            order=40,
        ),
        Table(
            "vle_sites",
            (
                _c("site_id", required=True, max_length=64),
                _c("module_instance_id", required=True, ref=MODULE_INSTANCE),
                _c("activity_type", max_length=64),
                # weeks relative to the presentation start; beyond a year either way is an error
                _c("week_from", "INTEGER", min=-52, max=104),
                _c("week_to", "INTEGER", min=-52, max=104),
            ),
            unique="site_id",
            order=30,
        ),
        Table(
            "vle_events",
            (
                _c("statement_id", required=True, max_length=128),
                _c("student_id", required=True, ref=STUDENT),
                _c("verb_iri", required=True, values=tuple(XAPI_VERBS)),
                _c("verb", max_length=32),  # derived from verb_iri
                _c("object_id", max_length=2048),
                _c("object_type", max_length=255),
                _c("module_instance_id", ref=MODULE_INSTANCE),
                _c("occurred_at", "TIMESTAMPTZ", required=True, past=True),
                _c("platform", max_length=100),
                _c("session_id", max_length=255),
                _c("ip_address", max_length=64),
                _c("score_scaled", "DOUBLE", min=-1, max=1),  # xAPI result.score.scaled
                _c("event_count", "INTEGER", required=True, min=1, max=100000),
                _c("source_format", required=True, max_length=32),
            ),
            unique="statement_id",
            order=50,
        ),
        Table(
            "attendance",
            (
                _c("student_id", required=True, ref=STUDENT),
                _c("event_id", required=True, max_length=64),
                _c("event_name", max_length=255),
                _c("event_type", max_length=64),
                _c("start_at", "TIMESTAMPTZ", required=True, past=True),
                _c("end_at", "TIMESTAMPTZ"),
                _c("attended", "BOOLEAN", required=True),
                _c("late", "BOOLEAN"),
                _c("staff_id", max_length=64),
                _c("module_instance_id", ref=MODULE_INSTANCE),
                _c("course_instance_id", max_length=64),
            ),
            order=50,
        ),
        Table(
            "library_loans",
            (
                _c("username", required=True, ref="students.username"),
                _c("item_id", required=True, max_length=64),
                _c("item_name", max_length=500),
                _c("item_subtype", max_length=64),
                _c("site", max_length=100),
                _c("borrowed_at", "TIMESTAMPTZ", required=True, past=True),
            ),
            order=50,
        ),
        Table(
            "case_notes",
            (
                _c("note_id", required=True, max_length=64),
                _c("student_id", required=True, ref=STUDENT),
                _c("staff_id", max_length=64),
                _c("created_at", "TIMESTAMPTZ", required=True, past=True),
                _c("note_text", required=True, max_length=20000),
            ),
            unique="note_id",
            order=50,
        ),
        Table(
            "consent_events",
            (
                _c("event_id", required=True, max_length=64),
                _c("student_id", required=True, ref=STUDENT),
                _c("purpose", required=True, values=tuple(policy.purpose_names())),
                _c("action", required=True, values=("grant", "withdraw")),
                _c("occurred_at", "TIMESTAMPTZ", required=True, past=True),
            ),
            unique="event_id",
            order=50,
        ),
        Table(
            "subject_requests",
            (
                _c("request_id", required=True, max_length=64),
                _c("student_id", required=True, ref=STUDENT),
                _c("request_type", required=True, values=("access", "erasure", "rectification")),
                _c("received_at", "TIMESTAMPTZ", required=True, past=True),
                _c("field", max_length=64),
                _c("new_value", max_length=500),
            ),
            unique="request_id",
            order=60,
        ),
    )
}


# Tables steward derives inside the identified zone for dbt to read beside or in place of a
# raw one ("schema.table" -> its columns); never loaded from an extract. Their column policy
# is in data.yaml `platform_tables.identified`.
DERIVED_TABLES: dict[str, Table] = {
    # case notes with their PII replaced by placeholders (steward.pii.case_notes)
    "redacted.case_notes": Table(
        "case_notes",
        (
            _c("note_id", required=True),
            _c("student_id", required=True),
            _c("staff_id"),
            _c("created_at", "TIMESTAMPTZ", required=True),
            _c("redacted_text", required=True),
            _c("entity_counts", "JSON", required=True),
            _c("source_hash", required=True),
            _c("redacted_at", "TIMESTAMPTZ", required=True),
        ),
        unique="note_id",
        lineage=(),
    ),
    # corrections of source values a student asked for (steward.requests.rectify), laid
    # over the source in staging (dbt macro `rectified`)
    "raw.rectifications": Table(
        "rectifications",
        (
            _c("rectification_id", required=True),
            _c("request_id", required=True),
            _c("table_name", required=True),
            _c("student_id", required=True),
            _c("column_name", required=True),
            _c("old_value"),
            _c("new_value", required=True),
            _c("received_at", "TIMESTAMPTZ", required=True),
            _c("recorded_at", "TIMESTAMPTZ", required=True),
        ),
        unique="rectification_id",
        lineage=(),
    ),
}


def table(name: str) -> Table:
    if name not in TABLES:
        raise KeyError(f"no canonical table {name!r}; known: {', '.join(sorted(TABLES))}")
    return TABLES[name]

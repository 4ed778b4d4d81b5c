"""Open University Learning Analytics Dataset (OULAD, Kuzilek et al. 2017): the CSV folder
as published, one adapter per file.

Quirks and the choices made for them:
- Every field is double-quoted and `?` means missing; `studentAssessment.csv` is unquoted
  and leaves missing values empty. Both become NULL.
- Dates are days relative to the start of the module presentation (day 0). A presentation
  code is a year and `B` (starts in February) or `J` (starts in October); OULAD gives no
  day, so a presentation starts on the 1st of its month (`2013J` -> 2013-10-01, `2014B` ->
  2014-02-01). It ends `module_presentation_length` days later (some exams fall on that
  day). The academic year (UDD MOD_ACADEMIC_YEAR, the year it starts in) starts on
  1 August, so `2014B` belongs to 2013 and `2013J` to 2013.
- A relative day that is not a whole number, or whose presentation start is unknown, is
  passed on unchanged so the contract quarantines it as not a valid date.
- gender M/F -> UDD SEXID 1/2. disability N -> DIFFLEARN1 1 (no known difficulty), Y -> 7
  (other and multiple difficulties): OULAD records only that a disability was declared,
  not its kind, and 7 is the one code that claims no particular kind.
- final_result -> UDD MOD_RESULT: Pass and Distinction -> 1, Fail -> 2, Withdrawn -> 3
  (UDD: "not known ... or doesn't apply because the student hasn't been assessed").
  agreed_grade keeps Pass / Distinction / Fail so a distinction is not lost.
- imd_band `10-20` is written `10-20%` like every other band.
- Any other value passes through unchanged and is quarantined against its code list.
- studentInfo and studentRegistration both describe an enrolment
  (`<code_module>-<code_presentation>-<id_student>`); registration supplies only the
  registration and withdrawal dates, so each enrolment lands as two rows sharing the id.
- studentAssessment has no presentation column: submission dates are anchored on the
  presentation of the assessment already loaded from assessments.csv.
- studentVle rows are daily click totals per student and VLE site: one `viewed` event per
  row, event_count = sum_click, at midnight UTC of that day (OULAD gives no time of day).
  Identical rows do occur, so the statement id includes the line number.
"""

from __future__ import annotations

from steward.contracts import XAPI_VERBS
from steward.sources.base import Adapter
from steward.sources.lookup import raw_lookup

VIEWED = "http://id.tincanapi.com/verb/viewed"

_INSTANCE = "code_module || '-' || code_presentation"
_START = (
    "case when regexp_full_match(code_presentation, '[0-9]{4}[BJ]') then make_date("
    "cast(left(code_presentation, 4) as integer), if(right(code_presentation, 1) = 'B', 2, 10), 1"
    ") end"
)


def _days_after(start: str, days: str) -> str:
    """ISO date `days` after `start`; the raw value when that cannot be worked out."""
    return f"coalesce(cast({start} + try_cast({days} as integer) as varchar), {days})"


def _adapter(
    name: str,
    header: tuple[str, ...],
    signature: set[str],
    targets: dict[str, str],
    description: str,
) -> Adapter:
    """Target queries read `s`: the file with `?` as NULL and, for files that name a
    presentation, its first day as `start`."""
    cleaned = ", ".join(f"nullif(\"{c}\", '?') as {c}" for c in header)
    start = f", {_START} as start" if "code_presentation" in header else ""
    prefix = (
        f"with cleaned as (select _line, {cleaned} from src),\n"
        f"s as (select *{start} from cleaned)\n"
    )
    return Adapter(
        name=name,
        framing="delimited",
        targets={target: prefix + sql for target, sql in targets.items()},
        signature=frozenset(signature),
        reads=frozenset(header),
        suffixes=(".csv",),
        description=f"OULAD {description}",
    )


def _case(column: str, mapping: dict[str, str]) -> str:
    """`mapping` applied to `column`; unmapped values pass through for the contract."""
    whens = " ".join(f"when '{k}' then '{v}'" for k, v in mapping.items())
    return f"case {column} {whens} else {column} end"


_RESULT = {"Pass": "1", "Distinction": "1", "Fail": "2", "Withdrawn": "3"}

# First day of each loaded assessment's presentation; an assessment loaded under two
# presentations has no single start, so its dates stay unresolved and are quarantined.
_ASSESSMENT_STARTS = raw_lookup(
    """select a.assessment_id,
        if(count(distinct m.start_date) = 1, min(m.start_date), null) as start_date
    from raw.assessments a
    join raw.module_instances m using (module_instance_id)
    group by a.assessment_id""",
    {"assessment_id": "varchar", "start_date": "date"},
)

ADAPTERS = (
    _adapter(
        "oulad_courses",
        ("code_module", "code_presentation", "module_presentation_length"),
        {"code_module", "code_presentation", "module_presentation_length"},
        {
            "modules": "select _line, code_module as module_id from s",
            "module_instances": f"""
select _line,
    {_INSTANCE} as module_instance_id,
    code_module as module_id,
    cast(year(start - interval 7 month) as varchar) as academic_year,
    right(code_presentation, 1) as period,
    cast(start as varchar) as start_date,
    {_days_after("start", "module_presentation_length")} as end_date,
    case when code_presentation is not null and start is null
        then 'code_presentation is not a year followed by B (February) or J (October)'
    end as _error
from s""",
        },
        "courses.csv: module presentations and their length",
    ),
    _adapter(
        "oulad_student_info",
        (
            "code_module",
            "code_presentation",
            "id_student",
            "gender",
            "region",
            "highest_education",
            "imd_band",
            "age_band",
            "num_of_prev_attempts",
            "studied_credits",
            "disability",
            "final_result",
        ),
        {"code_module", "code_presentation", "id_student", "gender", "final_result"},
        {
            "students": f"""
select _line,
    id_student as student_id,
    {_case("gender", {"M": "1", "F": "2"})} as sex,
    {_case("disability", {"N": "1", "Y": "7"})} as disability,
    region,
    highest_education,
    {_case("imd_band", {"10-20": "10-20%"})} as imd_band,
    age_band
from s""",
            "enrolments": f"""
select _line,
    {_INSTANCE} || '-' || id_student as enrolment_id,
    id_student as student_id,
    {_INSTANCE} as module_instance_id,
    {_case("final_result", _RESULT)} as result,
    case when final_result in ('Pass', 'Distinction', 'Fail') then final_result end
        as agreed_grade,
    num_of_prev_attempts as prior_attempts,
    studied_credits
from s""",
        },
        "studentInfo.csv: students and their result per presentation",
    ),
    _adapter(
        "oulad_student_registration",
        (
            "code_module",
            "code_presentation",
            "id_student",
            "date_registration",
            "date_unregistration",
        ),
        {"code_module", "code_presentation", "id_student", "date_registration"},
        {
            "enrolments": f"""
select _line,
    {_INSTANCE} || '-' || id_student as enrolment_id,
    id_student as student_id,
    {_INSTANCE} as module_instance_id,
    {_days_after("start", "date_registration")} as registration_date,
    {_days_after("start", "date_unregistration")} as withdrawal_date
from s"""
        },
        "studentRegistration.csv: registration and withdrawal dates",
    ),
    _adapter(
        "oulad_assessments",
        ("code_module", "code_presentation", "id_assessment", "assessment_type", "date", "weight"),
        {"code_module", "code_presentation", "id_assessment", "assessment_type"},
        {
            "assessments": f"""
select _line,
    id_assessment as assessment_id,
    {_INSTANCE} as module_instance_id,
    assessment_type,
    {_days_after("start", "date")} as due_date,
    weight
from s"""
        },
        "assessments.csv: assessments and their due dates",
    ),
    _adapter(
        "oulad_student_assessment",
        ("id_assessment", "id_student", "date_submitted", "is_banked", "score"),
        {"id_assessment", "id_student", "date_submitted", "score"},
        {
            "assessment_results": f"""
select s._line,
    s.id_assessment as assessment_id,
    s.id_student as student_id,
    {_days_after("starts.start_date", "s.date_submitted")} as submitted_date,
    s.is_banked,
    s.score
from s
left join {_ASSESSMENT_STARTS} as starts on starts.assessment_id = s.id_assessment"""
        },
        "studentAssessment.csv: assessment submissions and scores",
    ),
    _adapter(
        "oulad_vle",
        ("id_site", "code_module", "code_presentation", "activity_type", "week_from", "week_to"),
        {"id_site", "code_module", "code_presentation", "activity_type"},
        {
            "vle_sites": f"""
select _line,
    id_site as site_id,
    {_INSTANCE} as module_instance_id,
    activity_type,
    week_from,
    week_to
from s"""
        },
        "vle.csv: VLE materials per presentation",
    ),
    _adapter(
        "oulad_student_vle",
        ("code_module", "code_presentation", "id_student", "id_site", "date", "sum_click"),
        {"code_module", "code_presentation", "id_student", "id_site", "sum_click"},
        {
            "vle_events": f"""
select _line,
    'oulad-vle:' || {_INSTANCE} || ':' || id_student || ':' || id_site || ':' || date || ':'
        || _line as statement_id,
    id_student as student_id,
    '{VIEWED}' as verb_iri,
    '{XAPI_VERBS[VIEWED]}' as verb,
    'oulad:site:' || id_site as object_id,
    {_INSTANCE} as module_instance_id,
    coalesce(strftime(start + try_cast(date as integer), '%Y-%m-%dT%H:%M:%SZ'), date)
        as occurred_at,
    sum_click as event_count,
    'oulad' as source_format
from s"""
        },
        "studentVle.csv: daily clicks per student and VLE site",
    ),
)

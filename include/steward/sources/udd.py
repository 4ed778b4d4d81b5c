"""Jisc Unified Data Definitions v1.6 extracts: tab-separated, one file per entity, UDD
field names in the header (extension fields start with `X_`)."""

from __future__ import annotations

from steward.sources.base import Adapter


def _udd(name: str, target: str, mapping: dict[str, str], signature: set[str]) -> Adapter:
    columns = ",\n    ".join(f'"{src}" as {dst}' for dst, src in mapping.items())
    return Adapter(
        name=name,
        framing="delimited",
        targets={target: f"select _line,\n    {columns}\nfrom src"},
        signature=frozenset(signature),
        reads=frozenset(mapping.values()),
        suffixes=(".tsv", ".txt", ".csv"),
        description=f"UDD {name.removeprefix('udd_')} extract",
    )


ADAPTERS = (
    _udd(
        "udd_student",
        "students",
        {
            "student_id": "STUDENT_ID",
            "username": "USERNAME",
            "vle_id": "VLE_ID",
            "uln": "ULN",
            "husid": "HUSID",
            "first_name": "FIRST_NAME",
            "last_name": "LAST_NAME",
            "birth_date": "DOB",
            "sex": "SEXID",
            "ethnicity": "ETHNICITY",
            "disability": "DIFFLEARN1",
            "domicile": "DOMICILE",
            "overseas": "OVERSEAS",
            "postcode": "POSTCODE",
            "email": "PRIMARY_EMAIL_ADDRESS",
            "phone": "MOBILE_PHONE",
            "socio_economic": "SOCIO_EC",
            "tutor_staff_id": "TUTOR_STAFF_ID",
            "fee_status": "X_FEE_STATUS",
            "religion": "X_RELIGION",
            "care_leaver": "X_CARELEAVER",
            "imd_quintile": "X_IMD_QUINTILE",
            "entry_quals": "ENTRY_QUALS",
            "entry_points": "ENTRY_POINTS",
            "entry_points_schema": "ENTRY_POINTS_SCHEMA",
            "provided_at": "PROVIDED_AT",
        },
        {"STUDENT_ID", "DOB", "SEXID", "ETHNICITY"},
    ),
    _udd(
        "udd_staff",
        "staff",
        {
            "staff_id": "STAFF_ID",
            "first_name": "FIRST_NAME",
            "last_name": "LAST_NAME",
            "email": "PRIMARY_EMAIL_ADDRESS",
            "role": "X_ROLE",
            "provided_at": "PROVIDED_AT",
        },
        {"STAFF_ID", "FIRST_NAME", "LAST_NAME"},
    ),
    _udd(
        "udd_course",
        "courses",
        {
            "course_id": "COURSE_ID",
            "title": "TITLE",
            "course_aim": "COURSE_AIM",
            "awarding_body": "AWARDING_BODY",
            "inst_tier_1": "INST_TIER_1",
            "inst_tier_2": "INST_TIER_2",
            "provided_at": "PROVIDED_AT",
        },
        {"COURSE_ID", "TITLE", "COURSE_AIM"},
    ),
    _udd(
        "udd_module",
        "modules",
        {
            "module_id": "MOD_ID",
            "module_name": "MOD_NAME",
            "credits": "MOD_CREDITS",
            "level": "MOD_LEVEL",
            "subject": "MOD_SUBJECT",
            "provided_at": "PROVIDED_AT",
        },
        {"MOD_ID", "MOD_NAME", "MOD_CREDITS"},
    ),
    _udd(
        "udd_module_instance",
        "module_instances",
        {
            "module_instance_id": "MOD_INSTANCE_ID",
            "module_id": "MOD_ID",
            "academic_year": "MOD_ACADEMIC_YEAR",
            "period": "MOD_PERIOD",
            "online": "MOD_ONLINE",
            "location": "MOD_LOCATION",
            "start_date": "X_START_DATE",
            "end_date": "X_END_DATE",
            "provided_at": "PROVIDED_AT",
        },
        {"MOD_INSTANCE_ID", "MOD_ID", "MOD_ACADEMIC_YEAR", "X_START_DATE"},
    ),
    _udd(
        "udd_student_on_module",
        "enrolments",
        {
            "enrolment_id": "STUDENT_ON_A_MODULE_INSTANCE_ID",
            "student_id": "STUDENT_ID",
            "module_instance_id": "MOD_INSTANCE_ID",
            "course_instance_id": "COURSE_INSTANCE_ID",
            "start_date": "MOD_START_DATE",
            "end_date": "MOD_END_DATE",
            "actual_mark": "MOD_ACTUAL_MARK",
            "agreed_mark": "MOD_AGREED_MARK",
            "agreed_grade": "MOD_AGREED_GRADE",
            "result": "MOD_RESULT",
            "withdrawal_date": "X_WITHDRAWAL_DATE",
            "print_credits": "X_PRINT_CREDITS",
            "provided_at": "PROVIDED_AT",
        },
        {"STUDENT_ON_A_MODULE_INSTANCE_ID", "STUDENT_ID", "MOD_INSTANCE_ID", "MOD_RESULT"},
    ),
)

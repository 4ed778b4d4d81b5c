"""A warehouse rebuilt after a sweep (the real data path: identity map refresh and dbt
build through `steward.pipeline`) stays swept: weekly rows dbt derives from the enrolment
spine do not come back, and a student whose record was anonymised reappears nowhere but
in the statutory grade and outcome rows."""

from __future__ import annotations

from datetime import date

from steward.pipeline import build_warehouse
from steward.retention.plan import plan_store
from steward.retention.sweep import sweep

QUIET = {"progress": lambda _message: None}
# marts keeping the statutory record (grades, outcomes) of a student whose record is swept
STATUTORY_MARTS = {"marts.fct_module_results", "marts.fct_assessment_results"}


def _warehouse(checksums, home) -> dict[str, tuple]:
    return {k: v for k, v in checksums(home).items() if k.startswith("warehouse:")}


def test_when_the_warehouse_is_rebuilt_after_a_sweep_then_it_is_as_swept(
    sweep_home, checksums, count
):
    sweep(date(2030, 1, 1), **QUIET)
    swept = _warehouse(checksums, sweep_home)
    assert swept["warehouse:intermediate.int_student_weeks_spined"][0] == 0
    assert count(sweep_home, "warehouse", "select count(*) from staging.stg_sis__enrolments") > 0

    build_warehouse()

    assert _warehouse(checksums, sweep_home) == swept
    assert not [s for s in plan_store("warehouse", date(2030, 1, 1), **QUIET) if s.rows]


def test_when_a_swept_students_record_is_anonymised_then_a_rebuild_shows_only_their_grades(
    sweep_home, query, count
):
    sweep(date(2034, 1, 1), **QUIET)
    retired = [
        p
        for (p,) in query(
            sweep_home,
            "identified",
            "select m.pseudonym from identity.identity_map m join raw.students s "
            "on s.student_id = m.source_id and m.subject_type = 'student' "
            "where s.last_name is null",
        )
    ]
    assert retired, "a 2034 sweep must anonymise the students' records"

    build_warehouse()

    holding = {
        f"{schema}.{table}"
        for schema, table in query(
            sweep_home,
            "warehouse",
            "select table_schema, table_name from information_schema.columns "
            "where column_name = 'student_pseudonym'",
        )
    }
    found = {
        name: count(
            sweep_home,
            "warehouse",
            f"select count(*) from {name} where student_pseudonym in "
            f"(select unnest({retired!r}::varchar[]))",
        )
        for name in holding
    }
    assert found["marts.fct_module_results"] > 0
    assert {n for n, rows in found.items() if rows and n.startswith("marts.")} <= STATUTORY_MARTS
    for name in ("intermediate.int_student_weeks_spined", "scoring.predictions"):
        assert found[name] == 0, name
    # the staging record is the bare pseudonym the grades refer to, nothing else
    attributes = {
        "staging.stg_sis__students": "age_band_at_reference, sex, postcode_outcode, "
        "tutor_pseudonym, fee_status, entry_quals, entry_points, region, imd_band",
        "restricted.restricted_students": "ethnicity, disability, religion, care_leaver",
    }
    for name, columns in attributes.items():
        held = ", ".join(f"{c}::varchar" for c in columns.split(", "))
        assert (
            count(
                sweep_home,
                "warehouse",
                f"select count(*) from {name} where coalesce({held}) is not null "
                f"and student_pseudonym in (select unnest({retired!r}::varchar[]))",
            )
            == 0
        ), name

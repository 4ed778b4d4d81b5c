"""The warehouse built by dbt from a generated institution: minimised, pseudonymised,
special-category data only in `restricted`, consent honoured on the next run."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from steward import pseudonym
from steward.warehouse_checks import WarehouseLeakError, check_warehouse

from .conftest import KEY, build_warehouse


def rows(home: Path, sql: str, store: str = "warehouse"):
    con = duckdb.connect(str(home / f"{store}.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_when_the_warehouse_is_built_then_no_direct_identifier_value_appears_in_any_column(
    built_home, use_home
):
    use_home(built_home)
    report = check_warehouse()
    assert report["identifier_values"] > 500  # ids, names, emails, phones, postcodes, sessions...
    assert report["text_columns_searched"] > 20


def test_when_a_raw_identifier_is_copied_into_the_warehouse_then_the_check_names_table_and_column(
    built_home, use_home, tmp_path
):
    home = use_home(tmp_path / "leaky")
    shutil.copytree(built_home, home)
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    con.execute(f"attach '{home / 'identified.duckdb'}' as identified (read_only)")
    con.execute(
        "create table marts.leak as select email as contact, ethnicity, 'Main Campus' as location "
        "from identified.raw.students"
    )
    con.close()
    with pytest.raises(WarehouseLeakError) as failure:
        check_warehouse()
    message = str(failure.value)
    assert "marts.leak.contact: 80 values equal a direct identifier" in message
    assert "marts.leak.ethnicity: special-category data outside restricted" in message
    assert "marts.leak.location: a column policy keeps in the identified zone" in message


def test_when_the_warehouse_is_built_then_special_category_columns_are_only_in_restricted(
    built_home,
):
    found = rows(
        built_home,
        "select schema_name, table_name from duckdb_columns() "
        "where column_name in ('ethnicity', 'disability', 'religion', 'care_leaver')",
    )
    assert {schema for schema, _ in found} == {"restricted"}
    assert rows(built_home, "select count(*) from restricted.restricted_students") == [(80,)]


def test_when_students_are_staged_then_pseudonyms_are_the_keyed_hmac_of_their_ids(built_home):
    (student_id,) = rows(
        built_home, "select student_id from raw.students order by student_id limit 1", "identified"
    )[0]
    expected = pseudonym.pseudonym(KEY.encode(), "student", student_id)
    assert rows(
        built_home,
        f"select count(*) from staging.stg_sis__students where student_pseudonym = '{expected}'",
    ) == [(1,)]
    assert rows(built_home, "select count(*) from staging.stg_sis__students") == [(80,)]


def test_when_a_student_withdraws_intervention_consent_then_they_leave_the_cohort_on_the_next_run(
    built_home, use_home, tmp_path
):
    from steward.ingest import ingest

    home = use_home(tmp_path / "withdrawal")
    shutil.copytree(built_home, home)
    cohort = rows(home, "select distinct student_pseudonym from marts.fct_intervention_cohort")
    assert cohort, "the generated institution has consenting students on running modules"
    chosen = cohort[0][0]
    (student_id,) = rows(
        home,
        f"select source_id from identity.identity_map where pseudonym = '{chosen}'",
        "identified",
    )[0]
    extract = tmp_path / "consent-update" / "consent.csv"
    extract.parent.mkdir()
    extract.write_text(
        "EVENT_ID,STUDENT_ID,PURPOSE,ACTION,OCCURRED_AT\n"
        f"W-1,{student_id},intervention,withdraw,2026-10-31T12:00:00Z\n"
    )
    ingest([extract.parent], progress=lambda _m: None)
    build_warehouse(home)
    after = {
        p
        for (p,) in rows(
            home, "select distinct student_pseudonym from marts.fct_intervention_cohort"
        )
    }
    assert chosen not in after
    assert len(after) == len(cohort) - 1


def test_when_no_key_is_configured_then_pseudonymisation_stops_with_a_clear_message(
    monkeypatch, steward_home
):
    monkeypatch.delenv("STEWARD_PSEUDONYM_KEY", raising=False)
    with pytest.raises(
        pseudonym.MissingKeyError, match="no pseudonymisation key: set STEWARD_PSEUDONYM_KEY"
    ):
        pseudonym.load_key(getter=lambda: None)


def test_when_the_key_is_rotated_then_every_pseudonym_changes_and_the_old_key_is_refused(
    built_home, use_home, tmp_path
):
    home = use_home(tmp_path / "rotation")
    shutil.copytree(built_home, home)
    before = dict(
        rows(home, "select source_id, pseudonym from identity.identity_map", "identified")
    )
    new_key = b"a-completely-different-key-0123456789abcdefgh"
    assert pseudonym.rotate(new_key) == len(before)
    after = dict(rows(home, "select source_id, pseudonym from identity.identity_map", "identified"))
    assert after.keys() == before.keys()
    assert all(after[s] != before[s] for s in before)
    with pytest.raises(pseudonym.MissingKeyError, match="built with a different key"):
        pseudonym.refresh_identity_map(KEY.encode())
    key_text = KEY
    for store in ("identified", "warehouse", "audit"):
        assert key_text.encode() not in (home / f"{store}.duckdb").read_bytes()


PAST_WEEKS = "assert_student_week_features_hold_only_past_weeks"


@pytest.mark.parametrize(
    "damage",
    [
        # a later week's logins counted in week 2's running total
        """update marts.fct_student_week_features set logins_to_date = logins_to_date + 1
        where week_number = 2 and student_week_key = (
            select min(student_week_key) from marts.fct_student_week_features
            where week_number = 2)""",
        # week 1 missing: week 2's total can no longer be traced back to week 0
        """delete from marts.fct_student_week_features
        where week_number = 1 and student_week_key = (
            select min(student_week_key) from marts.fct_student_week_features
            where week_number = 1)""",
    ],
    ids=["future-week-counted", "week-missing"],
)
def test_when_a_running_total_is_not_the_sum_of_past_weeks_then_the_dbt_test_fails(
    built_home, use_home, tmp_path, damage
):
    from steward import dbt

    home = use_home(tmp_path / "damaged")
    shutil.copytree(built_home, home)
    dbt.run("test", "--select", PAST_WEEKS)  # passes on the build as made
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    assert con.execute(damage).fetchall() == [(1,)]
    con.close()
    with pytest.raises(RuntimeError, match=PAST_WEEKS):
        dbt.run("test", "--select", PAST_WEEKS)

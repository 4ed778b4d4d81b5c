"""Joint risk of linkable releases and of attacker knowledge."""

from __future__ import annotations

import duckdb
import pytest

from steward.risk import Release, RiskInputError, check_linkage, measure


@pytest.fixture
def students() -> duckdb.DuckDBPyConnection:
    """1,000 students whose attributes are digits of their number: class sizes are exact.

    (age_band, sex) gives 10 classes of 100; (module, ethnicity) 50 of 20; all four
    together 500 of 2 (students i and i + 500).
    """
    con = duckdb.connect()
    con.execute(
        """create table students as select
          'S' || lpad(i::varchar, 4, '0') as student_key,
          ['16-20', '21-25', '26-30', '31-40', '41+'][1 + i % 5] as age_band,
          ['F', 'M'][1 + (i // 5) % 2] as sex,
          'M' || ((i // 10) % 10)::varchar as module,
          ['10', '22', '31', '41', '80'][1 + (i // 100) % 5] as ethnicity,
          (i * 37) % 101 as grade
        from range(1000) r(i)"""
    )
    con.execute("create view grades as select student_key, age_band, sex, grade from students")
    con.execute("create view cohort as select student_key, module, ethnicity from students")
    return con


def test_when_two_releases_pass_alone_but_fail_joined_then_both_are_blocked(students) -> None:
    grades = Release("grades", "grades", ("age_band", "sex"))
    cohort = Release("cohort", "cohort", ("module", "ethnicity"))
    assert measure(students, "grades", ["age_band", "sex"]).k == 100
    assert measure(students, "cohort", ["module", "ethnicity"]).k == 20
    report = check_linkage(students, [grades, cohort], k=10, key="student_key")
    alone = {c.releases: c.k for c in report.combinations if len(c.releases) == 1}
    assert alone == {("grades",): 100, ("cohort",): 20}
    assert [(c.releases, c.k) for c in report.failing] == [(("grades", "cohort"), 2)]
    assert report.failing[0].qi == (
        "grades.age_band",
        "grades.sex",
        "cohort.module",
        "cohort.ethnicity",
    )
    assert report.failing[0].subjects_at_risk == 1000
    assert report.blocked == ("cohort", "grades")
    assert not report.passed


def test_when_attacker_knows_published_columns_then_they_count_as_quasi_identifiers(
    students,
) -> None:
    release = Release("modules", "students", ("age_band",))
    plain = check_linkage(students, [release], k=10, key="student_key")
    assert plain.passed
    assert plain.combinations[0].k == 200
    informed = check_linkage(
        students,
        [release],
        k=10,
        key="student_key",
        attacker_knowledge=("module", "sex", "ethnicity", "postcode"),
    )
    assert informed.blocked == ("modules",)
    assert informed.combinations[0].qi == (
        "modules.age_band",
        "modules.module",
        "modules.sex",
        "modules.ethnicity",
    )
    assert informed.combinations[0].k == 2


def test_when_a_release_fails_alone_then_its_combinations_are_not_measured(students) -> None:
    exact = Release("exact", "students", ("age_band", "sex", "module", "ethnicity"))
    safe = Release("safe", "grades", ("age_band",))
    report = check_linkage(students, [exact, safe], k=10, key="student_key")
    assert [c.releases for c in report.combinations] == [("exact",), ("safe",)]
    assert report.blocked == ("exact",)


def test_when_release_has_several_rows_a_student_then_k_counts_students() -> None:
    con = duckdb.connect()
    con.execute(
        """create table enrolments as select 'S' || (i % 30)::varchar as student_key,
          'M' || (i // 30)::varchar as module from range(60) r(i)"""
    )
    report = check_linkage(
        con, [Release("enrolments", "enrolments", ("module",))], k=30, key="student_key"
    )
    assert report.combinations[0].k == 30
    assert report.combinations[0].subjects == 60  # a student counted once per class


def test_when_release_lacks_the_key_then_error_names_it(students) -> None:
    students.execute("create view anonymous as select age_band from students")
    with pytest.raises(RiskInputError, match=r"release anonymous: no column 'student_key'"):
        check_linkage(
            students, [Release("anonymous", "anonymous", ("age_band",))], k=10, key="student_key"
        )


def test_when_release_names_repeat_then_error(students) -> None:
    twice = [Release("a", "grades", ("sex",)), Release("a", "cohort", ("module",))]
    with pytest.raises(RiskInputError, match="release names must be unique"):
        check_linkage(students, twice, k=10, key="student_key")

"""Erasure reaches every store and every file, keeps only the statutory grade rows, is
not undone by the next build or a later extract, and leaves a record without the student."""

from __future__ import annotations

import json

from steward import data_policy, pipeline
from steward.ingest import check_ledger, ingest
from steward.model import run
from steward.requests.handle import submit

STATUTORY_TABLES = {
    f"raw.{name}"
    for name, entry in data_policy.tables().items()
    if any(rule.get("statutory") for rule in entry["columns"].values())
}


def _beyond_statutory_rows(hits):
    """Hits other than the student id in a statutory table of the identified zone."""
    return [
        h
        for h in hits
        if not (h[0] == "identified" and h[1] in STATUTORY_TABLES and h[2] == "student_id")
    ]


def test_when_a_student_is_erased_then_only_their_statutory_grade_rows_remain_anywhere(
    look, scored_home
):
    run.create_interventions(scored_home.score_run_id)
    student = look.scored_student()
    before = {(h[0], h[1]) for h in look.search(student.needles)}
    assert {("warehouse", "scoring.predictions"), ("identified", "raw.library_loans")} <= before
    assert any(store == "file" and path.startswith("landing/") for store, path in before)
    assert submit("access", student.student_id).status == "done"  # an export to erase too

    outcome = submit("erasure", student.student_id)

    assert outcome.status == "done", outcome.reason
    after = look.search(student.needles)
    assert _beyond_statutory_rows(after) == []
    assert ("identified", "raw.enrolments", "student_id", student.student_id) in [
        h[:4] for h in after
    ]
    (left,) = look.query(
        "identified",
        """select count(*) filter (where result is not null),
            count(*) filter (where enrolment_id is not null or registration_date is not null
                             or studied_credits is not null)
        from raw.enrolments where student_id = ?""",
        [student.student_id],
    )
    assert left[0] > 0, "the statutory outcome is kept"
    assert left[1] == 0, "every other personal column is cleared"
    tables = outcome.counts["tables"]
    assert tables["warehouse.scoring.predictions"]["deleted"] > 0
    assert tables["identified.raw.library_loans"]["deleted"] > 0
    assert tables["identified.identity.identity_map"] == {"deleted": 1}
    assert outcome.counts["files"]["exports"] == {"exports_deleted": 1}
    assert outcome.counts["files"]["landing"]["files_changed"] > 0
    check_ledger()  # rows in = rows loaded + rows quarantined still holds

    # the next build: the landing folder is ingested again and every model rebuilt
    pipeline.build_warehouse(look.home / "landing")
    assert _beyond_statutory_rows(look.search(student.needles)) == []


def test_when_an_erasure_is_logged_then_the_record_proves_it_without_the_student(look):
    student = look.scored_student()

    outcome = submit("erasure", student.student_id)

    ((status, counts, due_days, policy_version),) = look.query(
        "audit",
        """select status, counts, datediff('day', received_at, due_by), policy_version
        from request_log where request_id = ?""",
        [outcome.request_id],
    )
    assert status == "done"
    assert 28 <= due_days <= 31
    assert policy_version
    assert json.loads(counts)["tables"]["identified.raw.students"] == {"deleted": 1}
    per_table = dict(
        look.query(
            "audit",
            "select store || '.' || table_name, rows_affected from audit_log "
            "where run_id = ? and table_name is not null",
            [outcome.request_id],
        )
    )
    assert per_table["identified.raw.students"] == 1
    assert per_table["warehouse.staging.stg_sis__students"] == 1
    assert [h for h in look.search(student.needles) if h[0] == "audit"] == []


def test_when_a_later_extract_holds_an_erased_student_then_ingest_quarantines_them_blank(
    look, built_home, tmp_path
):
    student = look.scored_student()
    sent = (built_home.parent / "institution" / "udd" / "student.tsv").read_text().splitlines()
    header, line = sent[0], next(x for x in sent if x.startswith(student.student_id + "\t"))
    other = next(x for x in sent[1:] if not x.startswith(student.student_id + "\t"))
    submit("erasure", student.student_id)
    later = tmp_path / "later"
    later.mkdir()
    # a resend: the erased student and one other, provided again later
    (later / "student.tsv").write_text(
        "\n".join([header, line, other]).replace("T02:00:00Z", "T03:00:00Z") + "\n"
    )

    summary = ingest([later], progress=lambda _m: None)

    assert (summary.totals()["rows_loaded"], summary.totals()["rows_quarantined"]) == (1, 1)
    assert look.query(
        "identified", "select count(*) from raw.students where student_id = ?", [student.student_id]
    ) == [(0,)]
    ((field, reason, record),) = look.query(
        "identified",
        "select field, reason, record from raw.quarantine where source_file = ?",
        [str(later / "student.tsv")],
    )
    assert (field, reason) == (
        "student_id",
        "student erased under a subject request; row not loaded",
    )
    assert not any(n in record for n in student.needles)
    check_ledger()


def test_when_an_erasure_is_asked_again_then_it_changes_nothing_more(look):
    student = look.scored_student()
    first = submit("erasure", student.student_id)

    again = submit("erasure", student.student_id)

    assert first.status == again.status == "done"
    assert again.counts["already_erased"] is True
    assert {t for t, n in again.counts["tables"].items() if "deleted" in n} == set()
    assert again.counts["files"]["landing"]["files_changed"] == 0

"""Rectification is recorded against the source value, applied by staging, and reaches
the warehouse on the next dbt build; the source record itself is never edited."""

from __future__ import annotations

import json

import pytest

from steward import data_policy, dbt
from steward.requests.handle import submit
from steward.requests.policy import load


def test_when_a_postcode_is_rectified_then_the_warehouse_has_it_after_a_dbt_build(look):
    student = look.scored_student()
    ((source_postcode,),) = look.query(
        "identified", "select postcode from raw.students where student_id = ?", [student.student_id]
    )
    corrected = "M32 9NJ" if not source_postcode.startswith("M32") else "LS1 4AP"

    outcome = submit("rectification", student.student_id, field_name="POSTCODE", value=corrected)

    assert outcome.status == "done", outcome.reason
    assert look.query(
        "identified",
        "select old_value, new_value, column_name from raw.rectifications where request_id = ?",
        [outcome.request_id],
    ) == [(source_postcode, corrected, "postcode")]
    outcode = "select postcode_outcode from staging.stg_sis__students where student_pseudonym = ?"
    before = look.query("warehouse", outcode, [student.pseudonym])

    dbt.run("build", "--select", "stg_sis__students")

    assert look.query("warehouse", outcode, [student.pseudonym]) == [(corrected.split()[0],)]
    assert before != [(corrected.split()[0],)]
    assert look.query(
        "identified", "select postcode from raw.students where student_id = ?", [student.student_id]
    ) == [(source_postcode,)]
    ((detail,),) = look.query(
        "audit",
        "select detail from audit_log where run_id = ? and table_name = 'raw.rectifications'",
        [outcome.request_id],
    )
    assert json.loads(detail) == {"corrections_recorded": 1}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("ethnicity", "10", "cannot be corrected through a request"),
        ("student_id", "S1", "cannot be corrected through a request"),
        ("birth_date", "31/02/2004", "birth_date: not a valid date"),
        ("birth_date", "2999-01-01", "birth_date: in the future"),
        ("postcode", "X" * 11, "postcode: longer than 10 characters"),
        ("postcode", "  ", "needs the corrected value"),
    ],
)
def test_when_a_correction_is_not_allowed_or_not_valid_then_it_is_refused(
    look, field, value, reason
):
    student = look.scored_student()

    outcome = submit("rectification", student.student_id, field_name=field, value=value)

    assert outcome.status == "refused"
    assert reason in outcome.reason
    assert look.query("identified", "select count(*) from raw.rectifications") == [(0,)]


def test_when_a_field_is_rectifiable_then_its_staging_model_applies_corrections(dbt_manifest):
    manifest = json.loads(dbt_manifest.read_text())
    for table in {f.table for f in load().rectifiable.values()}:
        model = f"stg_{data_policy.SOURCE_OF[table]}__{table}"  # the table's staging model
        node = manifest["nodes"][f"model.steward.{model}"]
        assert "source.steward.raw.rectifications" in node["depends_on"]["nodes"], (
            f"{model}: policy lets students correct {table}, but the model does not apply "
            "raw.rectifications (macro `rectified`)"
        )

"""A consent withdrawal made through a request takes effect on the next run: the student
leaves the intervention cohort and no intervention is opened for them."""

from __future__ import annotations

from datetime import timedelta

from steward import dbt
from steward.model import run
from steward.model.policy import load as model_policy
from steward.requests.handle import submit


def _flagged_in_cohort(look, run_id: str) -> list[str]:
    bands = sorted(model_policy().flag_bands)
    rows = look.query(
        "warehouse",
        f"""select distinct p.student_pseudonym from scoring.predictions p
        join marts.fct_intervention_cohort c using (student_pseudonym, module_instance_id, week_number)
        where p.run_id = ? and p.risk_band in ({", ".join("?" for _ in bands)})
        order by 1""",
        [run_id, *bands],
    )
    return [p for (p,) in rows]


def test_when_a_student_withdraws_consent_then_the_next_run_opens_no_intervention_for_them(
    look, scored_home
):
    flagged = _flagged_in_cohort(look, scored_home.score_run_id)
    assert len(flagged) >= 2, "the fixture needs two flagged, consenting students"
    withdrawing = flagged[0]
    ((student_id, last_event),) = look.query(
        "identified",
        """select m.source_id, max(e.occurred_at) from identity.identity_map m
        join raw.consent_events e on e.student_id = m.source_id and e.purpose = 'intervention'
        where m.pseudonym = ? group by 1""",
        [withdrawing],
    )

    outcome = submit(
        "consent",
        student_id,
        field_name="intervention",
        value="withdraw",
        received_at=last_event + timedelta(seconds=1),
    )
    dbt.run("build", "--select", "stg_consent__events+")
    created = run.create_interventions(scored_home.score_run_id)

    assert outcome.status == "done", outcome.reason
    with_interventions = {
        p for (p,) in look.query("warehouse", "select student_pseudonym from scoring.interventions")
    }
    assert withdrawing not in with_interventions
    assert set(flagged[1:]) <= with_interventions
    assert look.query("warehouse", "select count(*) from scoring.interventions") == [
        (created["interventions_created"],)
    ]


def test_when_a_consent_change_names_a_purpose_without_consent_then_it_is_refused(look):
    student = look.scored_student()

    outcome = submit("consent", student.student_id, field_name="student_support", value="withdraw")

    assert outcome.status == "refused"
    assert "consent can be changed for" in outcome.reason

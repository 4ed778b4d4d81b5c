"""A consent withdrawal made through a request takes effect on the next run: the student
leaves the intervention cohort and no intervention is opened for them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml
from airflow.dag_processing.dagbag import DagBag

from steward import cli, dbt
from steward.model import run
from steward.model.policy import load as model_policy
from steward.requests.handle import submit

DAGS = Path(__file__).resolve().parents[2] / "dags"
REFERENCE_DATE = yaml.safe_load((dbt.PROJECT / "dbt_project.yml").read_text())["vars"][
    "reference_date"
]


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


def test_when_a_student_withdraws_consent_today_then_the_next_run_leaves_them_out(
    airflow_db, look, scored_home
):
    # today is after the data's reference date (dbt var `reference_date`): the withdrawal
    # still counts from the next build, and score_students opens nothing for the student
    flagged = _flagged_in_cohort(look, scored_home.score_run_id)
    assert len(flagged) >= 2, "the fixture needs two flagged, consenting students"
    withdrawing = flagged[0]
    ((student_id,),) = look.query(
        "identified",
        "select source_id from identity.identity_map where pseudonym = ?",
        [withdrawing],
    )

    assert (
        cli.main(
            [
                "request",
                "consent",
                "--student",
                student_id,
                "--purpose",
                "intervention",
                "--action",
                "withdraw",
            ]
        )
        == 0
    )
    dbt.run("build", "--select", "stg_consent__events+")
    scoring = DagBag(dag_folder=str(DAGS)).dags["score_students"].test()

    assert scoring.state == "success"
    ((recorded_at,),) = look.query(
        "identified",
        "select max(occurred_at)::date from raw.consent_events where student_id = ?",
        [student_id],
    )
    assert str(recorded_at) > REFERENCE_DATE, "the withdrawal must postdate the reference date"
    cohort = {
        p
        for (p,) in look.query(
            "warehouse", "select student_pseudonym from marts.fct_intervention_cohort"
        )
    }
    assert withdrawing not in cohort
    assert set(flagged[1:]) <= cohort
    opened = {
        p
        for (p,) in look.query(
            "warehouse",
            "select i.student_pseudonym from scoring.interventions i "
            "join scoring.predictions p using (prediction_id) where p.run_id <> ?",
            [scored_home.score_run_id],
        )
    }
    assert withdrawing not in opened
    assert set(flagged[1:]) & opened, "the run must open interventions for the others"


def test_when_a_consent_change_names_a_purpose_without_consent_then_it_is_refused(look):
    student = look.scored_student()

    outcome = submit("consent", student.student_id, field_name="student_support", value="withdraw")

    assert outcome.status == "refused"
    assert "consent can be changed for" in outcome.reason

"""
### Score students

Weekly (Monday 06:00 UTC), and whenever `transform_warehouse` rebuilds the warehouse, this
DAG keeps the at-risk model current and acts on its scores, within
`include/policies/model.yaml`:

1. **train_when_due** trains a candidate when the last one is older than the retraining
   cadence (or when the `force_train` parameter is set): features whose link to the
   outcome is unstable across presentations are dropped, the model is fitted on earlier
   presentations and validated on the latest ended one, and its fairness is compared
   across special-category groups. The **promotion gate** then checks AUC, calibration,
   unstable features and the equal-opportunity gap. A refused model is recorded with
   each missed threshold and its margin (see this task's log and the model card); the
   current model keeps scoring.
2. **score_enrolled** scores the current week of every enrolment on a running
   presentation and records each prediction with its risk band, model version, feature
   hash and top contributing features (shown in a student's access export).
3. **create_interventions** opens an intervention for flagged students **with
   intervention consent only**; flagged students without it are counted as withheld and
   never contacted.
4. **record_intervention_outcomes** records, once the follow-up weeks have passed,
   whether each student's engagement recovered (for the effectiveness review).

**For stewards:** the registry (`scoring.model_registry`), predictions and interventions
are in the warehouse's `scoring` schema; model cards under `$STEWARD_HOME/models/`. The
audit store holds counts and versions only. Writes go through the `warehouse_writer` pool.
"""

from __future__ import annotations

import pendulum
from _assets import MODEL, WAREHOUSE
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, Param, dag, task


@dag(
    dag_id="score_students",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 * * 1", timezone="UTC"), assets=[WAREHOUSE]
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["steward", "model", "interventions"],
    default_args={"owner": "student-services-analytics", "retries": 1},
    params={
        "force_train": Param(False, type="boolean", description="Train even if not due."),
    },
    doc_md=__doc__,
)
def score_students():
    @task(pool="warehouse_writer", outlets=[MODEL])
    def train_when_due(params=None) -> dict:
        from steward.model import run

        return run.train(force=bool(params.get("force_train")))

    @task(pool="warehouse_writer")
    def score_enrolled(gate: dict) -> dict:
        from steward.model import run

        return run.score_students()

    @task(pool="warehouse_writer")
    def create_interventions(scored: dict) -> dict:
        from steward.model import run

        return run.create_interventions(scored["run_id"])

    @task(pool="warehouse_writer")
    def record_intervention_outcomes(created: dict) -> dict:
        from steward.model import run

        return run.record_intervention_outcomes()

    record_intervention_outcomes(create_interventions(score_enrolled(train_when_due())))


score_students()

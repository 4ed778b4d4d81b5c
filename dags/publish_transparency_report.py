"""
### Publish transparency report

Rebuilds the report that tells students and staff what the platform holds and why: data
sources, purposes and lawful bases, metrics and how to read them, who may read what,
retention periods, how the algorithms work and are validated, and how to make a request.

It is generated from the policy files (`include/policies/`), the dbt documentation (the
manifest `steward dbt-parse` writes) and the card of the model in use, so it cannot drift
from what runs. Runs daily at 05:30 UTC (which picks up policy changes deployed since),
and whenever the warehouse, the analyst releases or the model registry change.

1. **build_report** writes `$STEWARD_HOME/reports/transparency.md` and `.html`, each
   replaced in one step. It refuses to publish when `access.yaml` names a store or
   release that does not exist, or when the current model's card is missing.
2. **record_publication** adds an audit entry with the policy and model versions.

**For stewards:** the report holds no personal data: policy values, names of tables and
columns, and the model's aggregate validation measures. Per-group fairness rows of the
model card stay out of it (a group can be a handful of students).
"""

from __future__ import annotations

import pendulum
from _assets import ANALYST, MODEL, WAREHOUSE
from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task


@dag(
    dag_id="publish_transparency_report",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 5 * * *", timezone="UTC"),
        assets=(WAREHOUSE | ANALYST | MODEL),
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["steward", "transparency", "report"],
    default_args={"owner": "data-protection", "retries": 1},
    doc_md=__doc__,
)
def publish_transparency_report():
    # Reading the model registry opens the warehouse: take its pool, as DuckDB will not
    # open a file another process is writing.
    @task(pool="warehouse_writer")
    def build_report() -> dict:
        from datetime import UTC, datetime

        from steward import report

        started_at = datetime.now(UTC).isoformat()
        return {**report.publish(), "started_at": started_at}

    @task(pool="audit_writer")
    def record_publication(summary: dict) -> dict:
        from datetime import datetime

        from steward import audit

        audit.record(
            audit.new_run_id("transparency"),
            "transparency_report",
            outcome="published",
            started_at=datetime.fromisoformat(summary["started_at"]),
            detail={
                "policy_version": summary["policy_version"],
                "model_version": summary["model_version"],
                "retention_declared": summary["retention_declared"],
            },
        )
        return summary

    record_publication(build_report())


publish_transparency_report()

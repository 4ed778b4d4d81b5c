"""
### Data subject requests

Hourly, this DAG answers students' requests about their own data, within the deadline in
`include/policies/requests.yaml` (one month from receipt). Requests arrive as rows of
`raw.subject_requests` (the request extract, landed by `ingest_sources`), or as a manual
run with the parameters below; the same can be done from a shell with `steward request`.

- **access**: everything held about the student in every zone, as a zip (JSON and CSV
  per table) and a page explaining each table and column, under
  `$STEWARD_HOME/exports/<request_id>/`. Analytics the policy withholds (risk scores) are
  marked as withheld with the reason; the data behind them is included.
- **erasure**: the student's records deleted in every zone, in landing files and exports,
  except the statutory record (marks, grades, outcomes), which stays in the identified
  zone; derived data and predictions go too. A later extract cannot load them again.
- **rectification**: a correction (`field`, `new_value`) recorded against the source
  value and applied by staging on the next dbt build.
- **consent**: a grant or withdrawal (`field` = purpose, `new_value` = grant or withdraw);
  a withdrawal stops interventions from the next build on.

1. **handle_manual_request** answers the request given as parameters, if any.
2. **handle_pending_requests** answers every row of `raw.subject_requests` not yet
   answered, oldest first, together as a batch (each store and landing file visited once
   for all of them); each request is logged with its own outcome, and one that fails
   stays open while the others finish. A student id of the wrong form is refused, never
   queried.
3. **announce_changes** updates the `steward_raw` asset when a request changed data, so
   `transform_warehouse` rebuilds the warehouse (skipped otherwise).

**For stewards:** outcomes are in `request_log` in the audit store (request id, kind,
received, due by, status, counts; never the student's identity) and in the Stewardship
view. A refused request carries its reason there; a failed one stays open and is retried.
The tasks take the `identified_writer` pool; an erasure also writes the warehouse, so if
dbt holds it at that moment the task fails and its retry finishes the request (every step
is safe to repeat). A manual run's parameters stay in Airflow's metadata database: prefer
`steward request` or the request extract for erasures.
"""

from __future__ import annotations

import pendulum
from _assets import RAW
from airflow.sdk import Param, dag, task

from steward.stores import pool_name

REQUEST_TYPES = ["access", "erasure", "rectification", "consent"]


@dag(
    dag_id="data_subject_requests",
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["steward", "requests", "gdpr", "identified-zone"],
    default_args={"owner": "data-protection", "retries": 1},
    params={
        "request_type": Param(
            "",
            type="string",
            enum=["", *REQUEST_TYPES],
            description="A request to answer now; empty to answer only pending rows.",
        ),
        "student_id": Param("", type="string", description="The student the request is about."),
        "field": Param(
            "", type="string", description="rectification: the field; consent: the purpose."
        ),
        "new_value": Param(
            "",
            type="string",
            description="rectification: the corrected value; consent: grant or withdraw.",
        ),
    },
    doc_md=__doc__,
)
def data_subject_requests():
    @task(pool=pool_name("identified"))
    def handle_manual_request(params=None) -> dict | None:
        from steward.requests.handle import submit

        if not params.get("request_type"):
            return None
        outcome = submit(
            params["request_type"],
            params.get("student_id") or "",
            field_name=params.get("field") or None,
            value=params.get("new_value") or None,
            source="dag",
        )
        return outcome.as_dict()

    @task(pool=pool_name("identified"))
    def handle_pending_requests(manual: dict | None) -> dict:
        from steward.requests.handle import process_pending

        return process_pending()

    @task.short_circuit()
    def data_changed(manual: dict | None, pending: dict) -> bool:
        from steward.requests.handle import CHANGES_DATA

        by_manual = bool(
            manual and manual["status"] == "done" and manual["request_type"] in CHANGES_DATA
        )
        return by_manual or pending["changes_data"]

    @task(outlets=[RAW])
    def announce_changes() -> None:
        """Runs only when a request changed data: its success updates `steward_raw`."""

    manual = handle_manual_request()
    pending = handle_pending_requests(manual)
    data_changed(manual, pending) >> announce_changes()


data_subject_requests()

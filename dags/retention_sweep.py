"""
### Retention sweep

Daily at 03:00 UTC this DAG deletes or anonymises what the retention policy says has been
kept long enough, in every store (the audit store included) and in the landing and export
folders. The policy is
`include/policies/data.yaml`: per data category a period, the date it runs from (module
end, the student's last module end, the event, the prediction, the file load, ...) and
the action. Grades and final outcomes are statutory and are kept; data of a student
enrolled on a module presentation running on the sweep date is never swept.

1. **open_sweep** fixes the run id and the sweep date (`as_of`, default today).
2. **plan_identified / plan_warehouse / plan_analyst / plan_audit / plan_files** count,
   per table and action, the rows (or files) due. Nothing changes.
3. **review** sends the plan for a steward's **approval** when the policy asks for it
   (`retention.approval` in data.yaml: always, or above a number of rows); otherwise
   the sweep **proceeds**. A dry run (`dry_run` parameter) stops here.
4. **apply_identified**, then **apply_warehouse**, **apply_analyst**, **apply_audit** and
   **apply_files** sweep one store each, in one transaction per store, in the store's
   writer pool. The identified zone records the date it was swept to: every later
   warehouse build is swept to it again (`transform_warehouse`), so nothing comes back.
5. **verify_*** plan each store again: nothing due may remain, and no table may be
   unknown to the policy. Verifications do not retry.
6. **record_sweep** writes the summary: success, failed, rejected or dry_run.

**For stewards:** approve or reject a waiting sweep under *Browse > Required Actions*
(unanswered for 20 hours, it is rejected and the next day's run plans afresh). Every
step is in the audit store (`audit_log`, run id `sweep-...`, actions `retention.plan`,
`retention.apply`, `retention.verify`, `retention.sweep`): table names and row counts
only. The same sweep runs from the command line: `steward sweep [--dry-run] [--as-of DATE]`.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import Param, chain, dag, task

# Stores in the order the sweep applies them, with the pool of the store each one reads
# or writes (the files step reads the identified zone's load ledger).
STORE_POOLS = {
    "identified": "identified_writer",
    "warehouse": "warehouse_writer",
    "analyst": "analyst_writer",
    "audit": "audit_writer",
    "files": "identified_writer",
}


@dag(
    dag_id="retention_sweep",
    schedule="0 3 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["steward", "retention", "data-protection"],
    default_args={"owner": "data-protection", "retries": 1},
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="The sweep's date (YYYY-MM-DD); empty for today (UTC).",
        ),
        "dry_run": Param(
            False, type="boolean", description="Plan and record only; change nothing."
        ),
    },
    doc_md=__doc__,
)
def retention_sweep():
    @task
    def open_sweep(params=None) -> dict:
        from datetime import UTC, date, datetime

        from steward import audit
        from steward.retention.sweep import today

        as_of = date.fromisoformat(params.get("as_of") or today().isoformat())
        return {
            "run_id": audit.new_run_id("sweep"),
            "as_of": as_of.isoformat(),
            "dry_run": bool(params.get("dry_run")),
            "started_at": datetime.now(UTC).isoformat(),
        }

    @task
    def plan(sweep: dict, store: str) -> list[dict]:
        from datetime import date

        from steward.retention import sweep as retention

        return retention.plan(
            sweep["run_id"], store, date.fromisoformat(sweep["as_of"]), dry_run=sweep["dry_run"]
        )

    @task.branch
    def review(sweep: dict, plans: list[list[dict]], ti=None) -> list[str]:
        from datetime import date, datetime

        from steward.retention import policy
        from steward.retention import sweep as retention

        planned = [step for steps in plans for step in steps]
        due = sum(step["rows"] for step in planned)
        if sweep["dry_run"]:
            return ["record_sweep"]
        if due and policy.needs_approval(due):
            ti.xcom_push(key="approval_body", value=retention.describe(planned))
            retention.summarise(
                sweep["run_id"],
                "awaiting_approval",
                date.fromisoformat(sweep["as_of"]),
                dry_run=False,
                started_at=datetime.fromisoformat(sweep["started_at"]),
                planned=planned,
            )
            return ["approve", "record_sweep"]
        return ["proceed", "record_sweep"]

    # The sweep's id and date come from XCom, not as an argument: a task argument would
    # make open_sweep an upstream, and its success would start apply_identified after a
    # dry run or before an approval.
    @task
    def apply(store: str, ti=None) -> list[dict]:
        from datetime import date

        from steward.retention import sweep as retention

        sweep = ti.xcom_pull(task_ids="open_sweep")
        return retention.apply(sweep["run_id"], store, date.fromisoformat(sweep["as_of"]))

    # a verification: retrying cannot change its answer
    @task(retries=0)
    def verify(store: str, ti=None) -> list[dict]:
        from datetime import date

        from steward.retention import sweep as retention

        sweep = ti.xcom_pull(task_ids="open_sweep")
        return retention.verify(sweep["run_id"], store, date.fromisoformat(sweep["as_of"]))

    @task(trigger_rule="all_done", retries=0)
    def record_sweep(sweep: dict, plans: list[list[dict]], ti=None) -> dict:
        from datetime import date, datetime

        from steward.retention import sweep as retention

        applied = [ti.xcom_pull(task_ids=f"apply_{store}") for store in STORE_POOLS]
        verified = [ti.xcom_pull(task_ids=f"verify_{store}") for store in STORE_POOLS]
        approval = ti.xcom_pull(task_ids="approve") or {}
        if sweep["dry_run"]:
            outcome = "dry_run"
        elif all(v is not None for v in verified):
            outcome = "success"
        elif approval.get("chosen_options") == [ApprovalOperator.REJECT]:
            outcome = "rejected"
        else:
            outcome = "failed"
        summary = retention.summarise(
            sweep["run_id"],
            outcome,
            date.fromisoformat(sweep["as_of"]),
            dry_run=sweep["dry_run"],
            started_at=datetime.fromisoformat(sweep["started_at"]),
            planned=[step for steps in plans for step in steps],
            applied=[step for steps in applied if steps for step in steps],
        )
        if outcome == "failed":
            raise RuntimeError(
                f"retention sweep {sweep['run_id']} failed: see the failed apply_* or verify_* "
                "task's log; a rerun resumes from the stores as they are"
            )
        return {k: v for k, v in summary.items() if k not in {"planned", "applied"}}

    sweep = open_sweep()
    plans = [
        plan.override(task_id=f"plan_{store}", pool=pool)(sweep, store)
        for store, pool in STORE_POOLS.items()
    ]
    decision = review(sweep, plans)
    approve = ApprovalOperator(
        task_id="approve",
        subject="Retention sweep as of {{ ti.xcom_pull(task_ids='open_sweep')['as_of'] }}",
        body="{{ ti.xcom_pull(task_ids='review', key='approval_body') }}",
        defaults="Reject",
        response_timeout=timedelta(hours=20),
    )
    proceed = EmptyOperator(task_id="proceed")
    applies = [
        apply.override(
            task_id=f"apply_{store}",
            pool=pool,
            trigger_rule="none_failed_min_one_success" if i == 0 else "all_success",
        )(store)
        for i, (store, pool) in enumerate(STORE_POOLS.items())
    ]
    verifies = [
        verify.override(task_id=f"verify_{store}", pool=pool)(store)
        for store, pool in STORE_POOLS.items()
    ]
    done = record_sweep(sweep, plans)

    chain(*plans, decision)
    decision >> [approve, proceed] >> applies[0]
    chain(*applies, *verifies, done)
    decision >> done


retention_sweep()

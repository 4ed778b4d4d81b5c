"""
### Release analyst marts

The release gate between the pseudonymised warehouse and the analyst store
(`analyst.duckdb`), the only store an analyst is given. What may be released is declared
in `include/policies/releases.yaml`: per release its source in the warehouse, its
quasi-identifiers, sensitive attribute and thresholds (k, l, t, suppression budget),
and the attacker knowledge (a class list: module, sex, age band).

1. **assess_releases** builds each release from the warehouse (read-only), measures its
   risk, generalises the quasi-identifiers until the thresholds hold (withholding at most
   the suppression budget of rows), and measures again. Count tables get small-cell and
   secondary suppression. Releases that pass alone are then checked **jointly** and
   against the attacker knowledge: one that fails only in combination is blocked too.
2. **publish_releases** writes a new analyst store with every passing release, carries
   over the **previous version** of each blocked release, and swaps it in atomically.
3. **discover_pii_columns** samples every column of the published store and classifies
   its values with the PII recognisers: the analyst store must hold none, so any column
   that does fails the run, naming table, column and entity.

**For stewards:** every run writes a risk report per release to
`$STEWARD_HOME/reports/releases/<release>/risk_report.{json,html}` and a row to
`risk_reports` in the audit store: the decision and its reasons, measures before and
after, generalisation levels, rows suppressed and information loss. Counts only; no
student data. A blocked release is a policy outcome, not a task failure.

Runs when `transform_warehouse` updates `steward_warehouse`; updates `steward_analyst`.
"""

from __future__ import annotations

import pendulum
from _assets import ANALYST, WAREHOUSE
from airflow.sdk import dag, task


@dag(
    dag_id="release_analyst_marts",
    schedule=[WAREHOUSE],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["steward", "release", "risk", "analyst-zone"],
    default_args={"owner": "data-protection", "retries": 1},
    doc_md=__doc__,
)
def release_analyst_marts():
    # Reading the warehouse takes its pool too: DuckDB will not open a file another
    # process is writing.
    @task(pool="warehouse_writer")
    def assess_releases() -> dict:
        from datetime import UTC, datetime

        from steward import audit
        from steward.release.gate import assess
        from steward.release.policy import load_policy
        from steward.release.publish import staging_path

        started_at = datetime.now(UTC).isoformat()
        run_id = audit.new_run_id("release")
        outcomes = assess(load_policy(), staging_path(run_id))
        return {"run_id": run_id, "started_at": started_at, "outcomes": outcomes}

    @task(pool="analyst_writer")
    def publish_releases(assessment: dict) -> dict:
        from datetime import datetime

        from steward.release.publish import publish

        return publish(
            assessment["run_id"],
            assessment["outcomes"],
            datetime.fromisoformat(assessment["started_at"]),
        )

    # a verification: retrying cannot change its answer
    @task(pool="analyst_writer", outlets=[ANALYST], retries=0)
    def discover_pii_columns() -> dict:
        from steward.pii.columns import check_store

        return check_store("analyst")

    publish_releases(assess_releases()) >> discover_pii_columns()


release_analyst_marts()

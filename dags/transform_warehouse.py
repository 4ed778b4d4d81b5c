"""
### Transform warehouse

Builds the pseudonymised warehouse (`warehouse.duckdb`) from the identified zone with one
`dbt build` (`dbt.dbt_producer_watcher`, Cosmos watcher mode); a task per dbt model and one
per model's tests follow that build and take the state of their node.

1. **pseudonymise_identifiers** adds a keyed HMAC-SHA256 pseudonym to the identity map
   for every new student and staff identifier. The key comes from `STEWARD_PSEUDONYM_KEY`
   or the Airflow connection `steward_pseudonym_key`; without it the run stops here.
2. **dbt** stages, minimises and pseudonymises (only columns a declared purpose needs;
   dates of birth become age bands, postcodes outcodes; special-category data only in the
   `restricted` schema), then builds the marts and the consent-filtered intervention cohort.
3. **resweep_warehouse** sweeps the new build to the date the last retention sweep
   swept the identified zone to (`steward.retention`): rows dbt derives from rows that
   stay (weekly rows on the enrolment spine) would otherwise come back after a sweep.
4. **check_warehouse** fails the run if a column not allowed by policy, or any direct
   identifier value from the identified zone, is found in the warehouse.
5. **discover_pii_columns** samples every column of the warehouse and classifies its
   values with the PII recognisers; a column holding PII that the dbt model's `meta`
   does not declare fails the run, naming table, column and entity. Findings (shares,
   never values) are kept in `pii_findings` in the audit store.

Runs when `ingest_sources` updates `steward_raw`; writes through the one-slot
`warehouse_writer` pool and updates the `steward_warehouse` asset on success.
"""

from __future__ import annotations

import pendulum
from _assets import RAW, WAREHOUSE
from _dbt import (
    execution_config,
    profile_config,
    project_config,
    render_config,
    watch_after_the_build,
)
from airflow.sdk import dag, task
from cosmos import DbtTaskGroup


@dag(
    dag_id="transform_warehouse",
    schedule=[RAW],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["steward", "dbt", "warehouse"],
    default_args={"owner": "data-engineering", "retries": 1},
    doc_md=__doc__,
)
def transform_warehouse():
    @task(pool="identified_writer")
    def pseudonymise_identifiers() -> dict:
        from steward.pseudonym import refresh_identity_map

        return refresh_identity_map()

    dbt = watch_after_the_build(
        DbtTaskGroup(
            group_id="dbt",
            project_config=project_config,
            profile_config=profile_config,
            execution_config=execution_config,
            render_config=render_config(["path:models"]),
            operator_args={"pool": "warehouse_writer"},
        )
    )

    @task(pool="warehouse_writer")
    def resweep_warehouse() -> dict:
        from steward.retention.sweep import resweep_warehouse as resweep

        return resweep()

    # verifications: retrying cannot change their answer
    @task(pool="warehouse_writer", retries=0)
    def check_warehouse() -> dict:
        from steward.warehouse_checks import check_warehouse as run_checks

        return run_checks()

    @task(outlets=[WAREHOUSE], pool="warehouse_writer", retries=0)
    def discover_pii_columns() -> dict:
        from steward.pii.columns import check_store

        return check_store("warehouse")

    (
        pseudonymise_identifiers()
        >> dbt
        >> resweep_warehouse()
        >> check_warehouse()
        >> discover_pii_columns()
    )


transform_warehouse()

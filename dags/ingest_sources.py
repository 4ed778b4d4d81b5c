"""
### Ingest sources

Lands new extracts from the landing folder (`$STEWARD_HOME/landing`, or the folder given
as the `source_dir` parameter) in the restricted identified zone (`identified.duckdb`).

For each file the format is detected (Jisc UDD TSV, xAPI statements in plain, Moodle
export or LRS envelope form, OULAD CSV, Moodle logstore, Jisc attendance and library
TSV, case notes, consent events, subject requests); every row is checked against the
declared contract; rows that break it are **quarantined** in `raw.quarantine` with the
file, line, field and reason, never dropped. A file already loaded is skipped, and each
file loads in one transaction, so a failure leaves nothing half-loaded.

New tutor case notes are then **redacted** (`redacted.case_notes`, still in the identified
zone): names, contact details and identifiers become typed placeholders, the student's
own mentions a marker that the warehouse turns into their pseudonym tag. dbt reads only
this table, so a note's original text never leaves the identified zone. Every column of
the identified zone is then sampled and classified for PII (`pii_findings` in the audit
store); a new column in an extract, one the contract does not know and so never loaded,
is classified before its file is loaded.

**For stewards:** the task log and the audit store show counts only
(rows in = rows loaded + rows quarantined; notes redacted and placeholders per type);
no personal data is logged.
On success the `steward_raw` asset is updated, which starts `transform_warehouse`.
"""

from __future__ import annotations

import pendulum
from _assets import RAW
from airflow.sdk import Param, dag, task


@dag(
    dag_id="ingest_sources",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # one run at a time, like every DAG of ours: a second would only queue on the pool,
    # holding a run slot (and a triggered run would race the day's scheduled one)
    max_active_runs=1,
    tags=["steward", "ingest", "identified-zone"],
    default_args={"owner": "data-engineering", "retries": 1},
    params={
        "source_dir": Param(
            "",
            type="string",
            description="Folder of extracts to land; empty means $STEWARD_HOME/landing.",
        )
    },
    doc_md=__doc__,
)
def ingest_sources():
    @task(pool="identified_writer")
    def land_extracts(params=None) -> dict:
        from pathlib import Path

        from steward import stores
        from steward.ingest import ingest

        source = params.get("source_dir") or str(stores.landing_dir())
        summary = ingest([Path(source)])
        return summary.totals()

    # More than one block of new notes is analysed in `pii.yaml: batch.n_process` worker
    # processes, started without this process's `__main__` (Airflow's entry point); a
    # worker that exits early fails the task (PiiWorkerError) and is not replaced.
    @task(pool="identified_writer")
    def redact_case_notes() -> dict:
        from steward.pii.case_notes import redact_new_notes

        return redact_new_notes()

    # Reading the identified zone takes its pool: DuckDB will not open a file another
    # process is writing.
    @task(pool="identified_writer")
    def discover_pii_columns() -> dict:
        from steward.pii.columns import check_store

        return check_store("identified")

    # a verification: retrying cannot change its answer. It reads the identified zone, so
    # it takes the zone's pool like the tasks above.
    @task(outlets=[RAW], pool="identified_writer", retries=0)
    def check_accounting(totals: dict) -> dict:
        from steward.ingest import check_ledger

        check_ledger()
        return totals

    totals = land_extracts()
    totals >> redact_case_notes() >> discover_pii_columns() >> check_accounting(totals)


ingest_sources()

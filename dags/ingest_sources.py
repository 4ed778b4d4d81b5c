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

**For stewards:** the task log and the audit store show counts only
(rows in = rows loaded + rows quarantined); no personal data is logged.
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

    # a verification: retrying cannot change its answer
    @task(outlets=[RAW], retries=0)
    def check_accounting(totals: dict) -> dict:
        from steward.ingest import check_ledger

        check_ledger()
        return totals

    check_accounting(land_extracts())


ingest_sources()

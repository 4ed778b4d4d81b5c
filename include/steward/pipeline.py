"""The data path without Airflow, for tests, benchmarks and a quick local look:
ingest extracts, redact new case notes, pseudonymise new identifiers, build the warehouse
with dbt and sweep it to the date of the last retention sweep."""

from __future__ import annotations

from pathlib import Path

from steward import dbt, pseudonym
from steward.ingest import ingest


def build_warehouse(extracts: Path | None = None) -> None:
    """Ingest `extracts` (when given), redact new case notes, refresh the identity map,
    `dbt build`, then sweep the warehouse to the last retention sweep's date (what the
    sweep removed stays removed)."""
    from steward.pii.case_notes import redact_new_notes  # imports Presidio: only when used
    from steward.retention.sweep import resweep_warehouse

    if extracts is not None:
        ingest([extracts], progress=lambda _message: None)
    redact_new_notes()
    pseudonym.refresh_identity_map()
    dbt.run("build")
    resweep_warehouse(progress=lambda _message: None)

"""The data path without Airflow, for tests, benchmarks and a quick local look:
ingest extracts, pseudonymise new identifiers, build the warehouse with dbt."""

from __future__ import annotations

from pathlib import Path

from steward import dbt, pseudonym
from steward.ingest import ingest


def build_warehouse(extracts: Path | None = None) -> None:
    """Ingest `extracts` (when given), refresh the identity map, then `dbt build`."""
    if extracts is not None:
        ingest([extracts], progress=lambda _message: None)
    pseudonym.refresh_identity_map()
    dbt.run("build")

"""Fixtures for the risk gate tests: the pycanon and ARX reference data."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from steward.risk import Hierarchy, load_hierarchy

ANONYMITY = (Path(__file__).parents[3] / ".." / "shared" / "data" / "anonymity").resolve()
# ARX's adult.csv column order, which is also the order of ARX's transformation arrays.
ADULT_COLUMNS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
    "salary-class",
]


@pytest.fixture(scope="session")
def anonymity_data() -> Path:
    if not ANONYMITY.is_dir():
        pytest.fail(f"{ANONYMITY}: the shared anonymity reference data is missing")
    return ANONYMITY


@pytest.fixture(scope="session")
def pycanon_dir(anonymity_data: Path) -> Path:
    """pycanon's StudentsMath_Score files: raw, and k = 2, 5, 7 versions."""
    return anonymity_data / "pycanon"


@pytest.fixture(scope="session")
def adult_dir(anonymity_data: Path) -> Path:
    """ARX's Adult extract and its hierarchies."""
    return anonymity_data / "arx_adult"


@pytest.fixture(scope="session")
def adult(adult_dir: Path) -> duckdb.DuckDBPyConnection:
    """ARX's Adult extract (30,162 rows) as table ``adult``, every column text."""
    con = duckdb.connect()
    con.execute(
        "create table adult as select * from read_csv(?, delim = ';', header = true, "
        "all_varchar = true)",
        [str(adult_dir / "adult.csv")],
    )
    return con


@pytest.fixture(scope="session")
def adult_hierarchies(adult_dir: Path) -> dict[str, Hierarchy]:
    """ARX's hierarchies for all nine Adult columns, in ARX's column order."""
    return {c: load_hierarchy(adult_dir / f"adult_hierarchy_{c}.csv") for c in ADULT_COLUMNS}

"""Shared fixtures. Airflow reads its configuration once, at first import, so the test
session's Airflow home, DAG folder and switches are set here, before anything imports it."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="steward-airflow-"))
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # set here, not left to `airflow db migrate` to write into airflow.cfg: an Airflow
        # imported in this process before that file exists would never see the secret
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "true",
    }
)
sys.path.insert(0, str(ROOT / "dags"))
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"{SHARED_DATA}: the shared real-data folder is missing")
    return SHARED_DATA


@pytest.fixture
def steward_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh STEWARD_HOME for one test."""
    home = tmp_path / "steward-home"
    monkeypatch.setenv("STEWARD_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Airflow's metadata database (SQLite), migrated once per session."""
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"airflow db migrate failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return _AIRFLOW_HOME


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """The dbt manifest the dbt DAGs are rendered from (as `steward dbt-parse` writes it)."""
    from steward import dbt

    return dbt.parse()


TEST_KEY = "test-only-pseudonymisation-key-0123456789abcdef"


def build_institution(root: Path, students: int, seed: int = 5) -> tuple[Path, Path]:
    """Generate an institution under `root` and build its stores: (STEWARD_HOME, extracts)."""
    from steward.pipeline import build_warehouse
    from steward.sources.generator import generate

    home, generated = root / "home", root / "institution"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        patch.setenv("STEWARD_PSEUDONYM_KEY", TEST_KEY)
        generate(generated, students, seed=seed)
        build_warehouse(generated)
    return home, generated


@pytest.fixture(scope="session")
def pseudonym_key() -> str:
    """The key the built stores were pseudonymised with."""
    return TEST_KEY


@pytest.fixture(scope="session")
def institution_builder():
    """`build_institution(root, students, seed=5)` for suites that need another size."""
    return build_institution


@pytest.fixture(scope="session")
def built_home(tmp_path_factory) -> Path:
    """STEWARD_HOME with identified and warehouse stores for 80 generated students."""
    return build_institution(tmp_path_factory.mktemp("built"), 80)[0]


@pytest.fixture(scope="session")
def home_from_built(built_home, tmp_path_factory):
    """`home_from_built(name, step)`: a new STEWARD_HOME holding copies of the built
    identified zone and warehouse, once `step(home)` has run in it with the test key."""
    import shutil

    def _make(name: str, step) -> Path:
        home = tmp_path_factory.mktemp(name) / "home"
        home.mkdir()
        for store in ("identified", "warehouse"):
            shutil.copy(built_home / f"{store}.duckdb", home / f"{store}.duckdb")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("STEWARD_HOME", str(home))
            patch.setenv("STEWARD_PSEUDONYM_KEY", TEST_KEY)
            step(home)
        return home

    return _make


def store_rows(home: Path, store: str, sql: str, params: list | None = None) -> list[tuple]:
    """The rows a query over one store of `home` returns (read-only)."""
    con = duckdb.connect(str(home / f"{store}.duckdb"), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def fingerprint(
    home: Path, stores: Iterable[str], *, files: bool = False, volatile: Iterable[str] = ()
) -> dict[str, tuple]:
    """Per table of each store: (rows, order-free hash of its columns other than
    `volatile`); with `files`, the sha256 of every file under the landing and export
    folders. Equal fingerprints, equal contents."""
    skip = set(volatile)
    found: dict[str, tuple] = {}
    for store in stores:
        path = home / f"{store}.duckdb"
        if not path.exists():
            continue
        con = duckdb.connect(str(path), read_only=True)
        try:
            columns: dict[tuple[str, str], list[str]] = {}
            for schema, table, column in con.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "where database_name = current_database() order by all"
            ).fetchall():
                if column not in skip:
                    columns.setdefault((schema, table), []).append(f'"{column}"')
            for (schema, table), cols in columns.items():
                found[f"{store}:{schema}.{table}"] = con.execute(
                    f"select count(*), coalesce(sum(hash(row({', '.join(cols)})::varchar)), 0) "
                    f'from "{schema}"."{table}"'
                ).fetchone()
        finally:
            con.close()
    if files:
        for folder in ("landing", "exports"):
            for path in sorted((home / folder).rglob("*")):
                if path.is_file():
                    found[f"file:{path.relative_to(home)}"] = (
                        hashlib.sha256(path.read_bytes()).hexdigest(),
                    )
    return found


@pytest.fixture(scope="session")
def home_fingerprint():
    """`home_fingerprint(home, stores, files=False, volatile=())`: see `fingerprint`."""
    return fingerprint


@pytest.fixture(scope="session")
def query():
    """`query(home, store, sql, params=None)`: the rows a query over one store returns."""
    return store_rows

"""A home for subject requests: the session's 80 built students, their extracts in the
landing folder (the same bytes that were ingested, so the load ledger knows them), and a
promoted model that has scored the running presentations (interventions not yet
created). Built once per session; each test works on its own copy."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

KEY = "test-only-pseudonymisation-key-0123456789abcdef"  # as tests/conftest.py builds with
EXTRACT_FOLDERS = ("udd", "vle", "attendance", "library", "notes", "consent", "requests")


@dataclass(frozen=True)
class ScoredHome:
    home: Path
    score_run_id: str


def _copy_home(source: Path, target: Path) -> None:
    target.mkdir(parents=True)
    for item in source.iterdir():
        if item.suffix == ".duckdb" or item.name in {"landing", "models"}:
            copy = shutil.copytree if item.is_dir() else shutil.copy
            copy(item, target / item.name)


@pytest.fixture(scope="session")
def scored_home(built_home, tmp_path_factory) -> ScoredHome:
    home = tmp_path_factory.mktemp("requests") / "home"
    _copy_home(built_home, home)
    extracts = built_home.parent / "institution"
    for folder in EXTRACT_FOLDERS:
        shutil.copytree(extracts / folder, home / "landing" / folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEWARD_HOME", str(home))
        patch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
        from steward.model import run

        trained = run.train(force=True)
        if trained["verdict"] != "promoted":
            # 80 students can miss a promotion threshold; requests need scores whatever the
            # gate says (the gate has its own tests), so this candidate is made current
            con = duckdb.connect(str(home / "warehouse.duckdb"))
            con.execute(
                "update scoring.model_registry set status = 'current', promoted_at = now() "
                "where model_version = ?",
                [trained["version"]],
            )
            con.close()
        scored = run.score_students()
        assert scored["scored"] > 0, scored
    return ScoredHome(home, scored["run_id"])


@pytest.fixture
def request_home(scored_home, tmp_path, monkeypatch) -> Path:
    """A private copy of the scored home as STEWARD_HOME, with the key set."""
    home = tmp_path / "home"
    _copy_home(scored_home.home, home)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
    return home


@dataclass(frozen=True)
class Student:
    student_id: str
    pseudonym: str
    full_name: str
    email: str
    username: str

    @property
    def needles(self) -> tuple[str, ...]:
        """What a search for the student looks for: id, pseudonym, name, email, username."""
        return (self.student_id, self.pseudonym, self.full_name, self.email, self.username)


@dataclass(frozen=True)
class Look:
    """Read-only looks into a home's stores and files, for assertions."""

    home: Path

    def query(self, store: str, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.home / f"{store}.duckdb"), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def student(self, student_id: str) -> Student:
        (full_name, email, username), *_ = self.query(
            "identified",
            "select first_name || ' ' || last_name, email, username from raw.students "
            "where student_id = ?",
            [student_id],
        )
        ((pseudonym,),) = self.query(
            "identified",
            "select pseudonym from identity.identity_map "
            "where subject_type = 'student' and source_id = ?",
            [student_id],
        )
        return Student(student_id, pseudonym, full_name, email, username)

    def scored_student(self) -> Student:
        """A student with predictions, results and library loans: held in every zone."""
        rows = self.query(
            "warehouse",
            """select distinct p.student_pseudonym from scoring.predictions p
            join marts.fct_module_results r using (student_pseudonym)
            join staging.stg_library__loans l using (student_pseudonym)
            order by 1""",
        )
        assert rows, "no scored student with results and loans in the fixture"
        ((student_id,),) = self.query(
            "identified",
            "select source_id from identity.identity_map where pseudonym = ?",
            [rows[0][0]],
        )
        return self.student(student_id)

    def search(self, needles: tuple[str, ...]) -> list[tuple[str, str, str, str, int]]:
        """Every (store, table, column, needle, rows) where a text or JSON column of any
        table in any store contains a needle, and every file under the home (stores
        aside) that contains one, as ("file", path, "", needle, 1)."""
        hits = []
        for store in ("identified", "warehouse", "analyst", "audit"):
            if not (self.home / f"{store}.duckdb").exists():
                continue
            con = duckdb.connect(str(self.home / f"{store}.duckdb"), read_only=True)
            columns = con.execute(
                """select schema_name, table_name, column_name from duckdb_columns()
                where database_name = current_database()
                  and (data_type like 'VARCHAR%' or data_type = 'JSON')"""
            ).fetchall()
            for schema, table, column in columns:
                for needle in needles:
                    (rows,) = con.execute(
                        f'select count(*) from "{schema}"."{table}" '
                        f'where contains("{column}"::varchar, ?)',
                        [needle],
                    ).fetchone()
                    if rows:
                        hits.append((store, f"{schema}.{table}", column, needle, rows))
            con.close()
        for path in sorted(self.home.rglob("*")):
            if path.is_file() and not path.name.endswith((".duckdb", ".wal")):
                data = path.read_bytes()
                hits += [
                    ("file", str(path.relative_to(self.home)), "", n, 1)
                    for n in needles
                    if n.encode() in data
                ]
        return hits


@pytest.fixture
def look(request_home) -> Look:
    return Look(request_home)

"""After a demo run of every DAG (tests/security/conftest.py): no student's name, email,
phone, username, student id, ULN or HUSID appears in the Airflow task logs, the demo's
console output, the XComs, the audit store or the benchmark results, whether looked for by
exact value or by our PII scanner (`steward pii scan-text`); and the pseudonymisation key
appears nowhere: no file, store, log or XCom.

These run the whole pipeline through Airflow: slow."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from steward.cli import main

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BENCHMARK_RESULTS = ROOT / "benchmarks" / "results"
# Entities that are identifiers of a person whatever the context; a PERSON span is judged
# against the students' own names instead, since NER also tags words in log text.
IDENTIFIER_ENTITIES = {
    "EMAIL_ADDRESS",
    "STUDENT_ID",
    "UK_PHONE",
    "ULN",
    "HUSID",
    "UK_NINO",
    "NHS",
    "UK_POSTCODE",
    "DATE_OF_BIRTH",
}


def log_lines(demo_run) -> Iterator[tuple[str, str]]:
    """Every line the demo printed, and of every log Airflow or steward wrote."""
    for number, line in enumerate(demo_run.console, start=1):
        yield f"console:{number}", line
    files = [
        p
        for base in (demo_run.airflow_home / "logs", demo_run.steward_home / "logs")
        if base.is_dir()
        for p in base.rglob("*")
        if p.is_file()
    ]
    for path in sorted(files):
        text = path.read_text(encoding="utf-8", errors="backslashreplace")
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                yield f"{path.name}:{number}", line


def xcoms(demo_run) -> Iterator[tuple[str, str]]:
    with sqlite3.connect(demo_run.airflow_home / "airflow.db") as con:
        rows = con.execute("select dag_id, task_id, key, value from xcom").fetchall()
    for dag_id, task_id, key, value in rows:
        text = value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value
        yield f"xcom {dag_id}.{task_id}.{key}", str(text)


def store_rows(path: Path) -> Iterator[tuple[str, str]]:
    """Each row of every table in a DuckDB store, its values joined as text."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        for schema, table in tables:
            relation = f'"{schema}"."{table}"'
            for number, row in enumerate(con.execute(f"select * from {relation}").fetchall()):
                values = [str(v) for v in row if v is not None]
                yield f"{path.name} {schema}.{table} row {number}", " | ".join(values)


def json_strings(value, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield where, str(key)
            yield from json_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from json_strings(item, f"{where}[{i}]")
    elif value is not None:
        yield where, str(value)


def benchmark_output() -> Iterator[tuple[str, str]]:
    for path in sorted(BENCHMARK_RESULTS.glob("*.json")):
        yield from json_strings(json.loads(path.read_text()), path.name)


@pytest.fixture(scope="module")
def outputs(demo_run) -> list[tuple[str, str]]:
    """(where, text) for everything the checks scan."""
    found = [*log_lines(demo_run), *xcoms(demo_run), *benchmark_output()]
    audit = demo_run.steward_home / "audit.duckdb"
    found.extend(store_rows(audit))
    return found


KINDS = {  # kind -> (raw.students expression, UDD student extract column)
    "student_id": ("student_id", "STUDENT_ID"),
    "username": ("username", "USERNAME"),
    "email": ("email", "PRIMARY_EMAIL_ADDRESS"),
    "phone": ("phone", "MOBILE_PHONE"),
    "name": ("concat_ws(' ', first_name, last_name)", "FIRST_NAME LAST_NAME"),
    "uln": ("uln", "ULN"),
    "husid": ("husid", "HUSID"),
}


@pytest.fixture(scope="module")
def students(demo_run) -> dict[str, list[str]]:
    """Every student's identifiers by kind: the identified zone's, and those still in the
    demo's student extract (an erased student's row there is blanked, not kept)."""
    store = demo_run.steward_home / "identified.duckdb"
    with duckdb.connect(str(store), read_only=True) as con:
        selected = ", ".join(expression for expression, _ in KINDS.values())
        rows = con.execute(f"select {selected} from raw.students").fetchall()
    for extract in demo_run.steward_home.glob("landing/*/udd/student.tsv"):
        with extract.open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle, delimiter="\t"):
                rows.append(
                    tuple(
                        " ".join(record.get(name) or "" for name in columns.split())
                        for _, columns in KINDS.values()
                    )
                )
    found = {
        kind: sorted({row[i].strip() for row in rows if row[i] and row[i].strip()})
        for i, kind in enumerate(KINDS)
    }
    # phones are also searched as bare digits, the way a log or a number field would hold them
    found["phone"] += sorted({re.sub(r"\D", "", p) for p in found["phone"]})
    return found


def test_when_the_demo_runs_then_every_dag_of_the_pipeline_succeeds(demo_run):
    from steward.demo import PIPELINE

    present = [d for d in PIPELINE if (ROOT / "dags" / f"{d}.py").exists()]
    assert demo_run.states == dict.fromkeys(present, "success"), demo_run.console[-5:]
    assert demo_run.exit_code == 0
    log = demo_run.steward_home / "logs" / "demo-airflow.log"
    assert "land_extracts" in log.read_text(encoding="utf-8", errors="replace")


def test_when_outputs_are_searched_for_each_students_identifiers_then_none_is_found(
    demo_run, outputs, students
):
    # every generated student but the few the run's erasure requests removed everywhere
    assert len(students["student_id"]) >= demo_run.students * 0.9
    assert any(where.startswith("xcom ") for where, _ in outputs), "XComs were scanned"
    assert any(where.startswith("audit.duckdb") for where, _ in outputs), "audit was scanned"
    leaks = []
    for kind, values in students.items():
        pattern = re.compile(
            r"(?<![\w@.+-])(?:" + "|".join(map(re.escape, values)) + r")(?![\w@-])"
        )
        assert pattern.search(f"logged: {values[0]}."), f"the {kind} search finds a planted one"
        leaks += [
            f"{where}: {kind} {match.group()!r}"
            for where, text in outputs
            for match in pattern.finditer(text)
        ]
    assert not leaks, "\n".join(leaks[:50])


def test_when_outputs_are_scanned_for_pii_then_no_person_or_identifier_is_found(
    demo_run, outputs, students, tmp_path, capsys
):
    # a planted line the scanner must flag: it shows the scan works on these outputs
    control = f"{students['name'][0]} asked us to reply to {students['email'][0]}"
    scanned = [*outputs, ("control", control)]
    texts = tmp_path / "outputs.jsonl"
    with texts.open("w", encoding="utf-8") as handle:
        for n, (_where, text) in enumerate(scanned):
            handle.write(json.dumps({"id": n, "text": text}) + "\n")
    spans_file = tmp_path / "spans.jsonl"
    assert main(["pii", "scan-text", str(texts), str(spans_file)]) == 0
    capsys.readouterr()

    names = {part for name in students["name"] for part in name.split()}
    findings = []
    for line in spans_file.read_text().splitlines():
        row = json.loads(line)
        where, text = scanned[row["id"]]
        for span in row["spans"]:
            found = text[span["start"] : span["end"]]
            kind = span["entity_type"]
            if kind in IDENTIFIER_ENTITIES or (kind == "PERSON" and set(found.split()) & names):
                findings.append(f"{where}: {kind} {found!r} in {text[:200]!r}")
    assert {f.split(" ")[1] for f in findings if f.startswith("control:")} >= {
        "PERSON",
        "EMAIL_ADDRESS",
    }
    findings = [f for f in findings if not f.startswith("control:")]
    assert not findings, "\n".join(findings[:50])


def test_when_every_file_and_store_is_read_then_the_pseudonymisation_key_is_nowhere(
    demo_run, outputs
):
    key = demo_run.key
    raw = key.encode()
    files = [
        p
        for base in (demo_run.steward_home, demo_run.airflow_home, BENCHMARK_RESULTS)
        if base.is_dir()
        for p in base.rglob("*")
        if p.is_file()
    ]
    assert any(p.name == "identified.duckdb" for p in files)
    holding = [str(p) for p in files if raw in p.read_bytes()]
    assert not holding, holding
    # DuckDB may compress strings on disk, so every store is also searched by value
    for store in demo_run.steward_home.glob("*.duckdb"):
        hits = [where for where, text in store_rows(store) if key in text]
        assert not hits, f"{store.name}: {hits[:5]}"
    assert not [where for where, text in outputs if key in text]

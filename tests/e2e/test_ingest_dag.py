"""End to end: a generated institution lands through the real `ingest_sources` DAG
(`dag.test()` on a real Airflow metadata database), with a corrupted file quarantined."""

from __future__ import annotations

from pathlib import Path

import duckdb
import orjson
import pytest
from airflow.dag_processing.dagbag import DagBag

from steward.sources.generator import generate

DAGS = Path(__file__).resolve().parents[2] / "dags"


def data_lines(path: Path) -> int:
    """Records in a file as a reader sees them: non-blank lines, minus a header."""
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    return len(lines) - (1 if path.suffix in {".tsv", ".csv"} else 0)


def corrupt(shard: Path, target: Path) -> dict[int, tuple[str, str]]:
    """Write ten statements of a real shard, under new ids, to `target`, damaging three.
    Returns line -> (field, reason) expected in the quarantine."""
    statements = [orjson.loads(line) for line in shard.read_text().splitlines()[:10]]
    for n, statement in enumerate(statements):
        statement["id"] = f"00000000-0000-4000-8000-{n:012d}"
    statements[3]["timestamp"] = "2999-01-01T00:00:00Z"
    lines = [orjson.dumps(s).decode() for s in statements]
    lines[1] = lines[1][: len(lines[1]) // 2]  # truncated
    lines[5] = lines[0]  # the same statement again
    target.write_text("\n".join(lines) + "\n")
    return {
        2: ("*", "not valid JSON"),
        4: ("occurred_at", "in the future"),
        6: ("statement_id", "duplicate of an earlier line in this file"),
    }


@pytest.fixture(scope="module")
def institution(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("institution")
    generate(out, 60, seed=3)
    return out


def test_when_ingest_sources_runs_then_every_row_is_loaded_or_quarantined_with_reasons(
    airflow_db, steward_home, institution, tmp_path
):
    shard = sorted((institution / "vle").glob("xapi-*.jsonl"))[0]
    bad_folder = tmp_path / "late-extract"
    bad_folder.mkdir()
    expected = corrupt(shard, bad_folder / "xapi-corrupted.jsonl")

    dag = DagBag(dag_folder=str(DAGS)).dags["ingest_sources"]
    run = dag.test(run_conf={"source_dir": str(institution)})
    assert run.state == "success"
    run = dag.test(run_conf={"source_dir": str(bad_folder)})
    assert run.state == "success"

    con = duckdb.connect(str(steward_home / "identified.duckdb"), read_only=True)
    ledger = {
        Path(name).name: (rows_in, loaded, quarantined)
        for name, rows_in, loaded, quarantined in con.execute(
            "select source_file, rows_in, rows_loaded, rows_quarantined from raw.loaded_files"
        ).fetchall()
    }
    generated = [
        p
        for p in institution.rglob("*")
        if p.is_file() and p.suffix in {".tsv", ".csv", ".jsonl"} and "truth" not in p.parts
    ]
    assert set(ledger) == {p.name for p in generated} | {"xapi-corrupted.jsonl"}, (
        "ground truth and the manifest must not be ingested"
    )
    for path in generated:
        rows_in, loaded, quarantined = ledger[path.name]
        assert rows_in == data_lines(path), path.name
        assert (loaded, quarantined) == (rows_in, 0), f"{path.name}: generated rows quarantined"
    assert ledger["xapi-corrupted.jsonl"] == (10, 7, 3)

    quarantined = con.execute(
        "select line, field, reason from raw.quarantine where source_file like '%xapi-corrupted%'"
        " order by line"
    ).fetchall()
    assert {line: (field, reason) for line, field, reason in quarantined} == expected
    loaded_statements = con.execute("select count(*) from raw.vle_events").fetchone()[0]
    con.close()
    vle_in = sum(data_lines(p) for p in generated if p.parent.name == "vle")
    assert loaded_statements == vle_in + 7

"""`steward risk measure` and `steward release` from the command line, and the
`release_analyst_marts` DAG through real Airflow (`dag.test()`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pytest

from steward.release import add_release_parser, add_risk_parser
from steward.release.policy import load_policy

DAGS = Path(__file__).resolve().parents[2] / "dags"


def steward(argv: list[str]) -> int:
    """The `steward` entry point if it has our commands, else them on a parser of their own."""
    from steward import cli

    commands = cli.build_parser()._subparsers._group_actions[0].choices
    if {"risk", "release"} <= set(commands):
        return cli.main(argv)
    parser = argparse.ArgumentParser(prog="steward")
    sub = parser.add_subparsers(dest="command", required=True)
    add_release_parser(sub)
    add_risk_parser(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_when_risk_measure_reads_the_pycanon_students_file_then_it_prints_k_1(shared_data, capsys):
    path = shared_data / "anonymity" / "pycanon" / "StudentsMath_Score.csv"

    code = steward(
        [
            "risk",
            "measure",
            str(path),
            "--qi",
            "Teacher,Gender,Ethnic,Freeredu,wesson",
            "--sa",
            "Score",
        ]
    )

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["rows"], printed["k"], printed["l_distinct"]) == (216, 1, 1)
    assert printed["k_threshold"] == load_policy().defaults.k


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing.csv", "--qi", "a"], "missing.csv: file not found"),
        (["{pycanon}", "--qi", "Nope"], "no column 'Nope'"),
        (["{pycanon}", "--qi", "Score", "--sa", "Score"], "both quasi-identifier and sensitive"),
    ],
)
def test_when_risk_measure_gets_bad_input_then_it_exits_2_naming_the_problem(
    shared_data, capsys, arguments, message
):
    pycanon = str(shared_data / "anonymity" / "pycanon" / "StudentsMath_Score.csv")
    argv = ["risk", "measure", *(a.replace("{pycanon}", pycanon) for a in arguments)]

    assert steward(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "Traceback" not in captured.err


def test_when_release_runs_from_the_command_line_then_it_prints_what_it_published(
    release_home, capsys
):
    assert steward(["release"]) == 0

    printed = json.loads(capsys.readouterr().out)
    assert printed["published"] == list(load_policy().names)
    assert (release_home / "analyst.duckdb").exists()


def test_when_release_analyst_marts_runs_then_the_analyst_store_holds_the_releases(
    airflow_db, release_home
):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["release_analyst_marts"]
    run = dag.test()

    assert run.state == "success"
    con = duckdb.connect(str(release_home / "analyst.duckdb"), read_only=True)
    released = dict(con.execute("select release_name, rows from release_manifest").fetchall())
    con.close()
    assert set(released) == set(load_policy().names)
    assert all(rows > 0 for rows in released.values())
    assert not list((release_home / "release_staging").glob("*.duckdb"))

"""The analyst connection profile reads the released tables and cannot reach any other
store or file; the access policy names only stores and releases that exist."""

from __future__ import annotations

import shutil

import duckdb
import pytest
import yaml

from steward import access, policy
from steward.release.policy import load_policy


def test_when_an_analyst_connects_then_every_release_is_readable_and_nothing_can_be_written(
    analyst_store,
):
    with access.analyst_connection() as con:
        tables = {r[0] for r in con.execute("show tables").fetchall()}
        rows = {
            name: con.execute(f"select count(*) from {name}").fetchone()[0]
            for name in load_policy().names
        }
        with pytest.raises(duckdb.InvalidInputException, match="read-only mode"):
            con.execute("create table notes as select 1 as x")
    assert set(load_policy().names) <= tables
    assert all(count > 0 for count in rows.values()), rows


@pytest.mark.parametrize(
    ("statement", "error", "match"),
    [
        (
            "attach '{home}/identified.duckdb' as identified (read_only)",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        (
            "attach '{home}/warehouse.duckdb' as warehouse (read_only)",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        (
            "select * from '{home}/warehouse.duckdb'",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        (
            "select * from read_csv('{home}/landing/student.tsv')",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        (
            "select * from read_text('{home}/audit.duckdb')",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        (
            "select * from glob('{home}/*')",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        (
            "copy (select 1) to '{home}/leak.csv'",
            duckdb.PermissionException,
            "file system operations are disabled",
        ),
        ("load httpfs", duckdb.PermissionException, "extensions is disabled"),
        (
            "set enable_external_access = true",
            duckdb.InvalidInputException,
            "configuration has been locked",
        ),
        (
            "reset enable_external_access",
            duckdb.InvalidInputException,
            "configuration has been locked",
        ),
        (
            "set lock_configuration = false",
            duckdb.InvalidInputException,
            "configuration has been locked",
        ),
    ],
    ids=[
        "attach-identified",
        "attach-warehouse",
        "scan-warehouse-file",
        "read-landing-extract",
        "read-audit-file",
        "list-home",
        "copy-out",
        "load-extension",
        "reenable-external-access",
        "reset-external-access",
        "unlock-configuration",
    ],
)
def test_when_the_analyst_connection_reaches_for_another_file_then_it_is_refused(
    analyst_store, statement, error, match
):
    home = analyst_store.parent
    with access.analyst_connection() as con, pytest.raises(error, match=match):
        con.execute(statement.format(home=home))
    assert not (home / "leak.csv").exists()


def test_when_an_ordinary_connection_attaches_the_identified_zone_then_it_succeeds(analyst_store):
    # The control for the refusals above: the files are there and readable, so it is the
    # analyst profile, not a missing file, that stops them.
    home = analyst_store.parent
    con = duckdb.connect(str(analyst_store), read_only=True)
    try:
        con.execute(f"attach '{home}/identified.duckdb' as identified (read_only)")
        students = con.execute("select count(*) from identified.raw.students").fetchone()[0]
        extract = con.execute(f"select count(*) from read_csv('{home}/landing/student.tsv')")
        assert students > 0 and extract.fetchone()[0] > 0
    finally:
        con.close()


def test_when_no_analyst_store_exists_then_the_connection_says_which_dag_writes_it(steward_home):
    with pytest.raises(FileNotFoundError, match="release_analyst_marts"):
        access.analyst_connection()


def test_when_the_access_policy_is_read_then_it_is_consistent_and_analysts_reach_only_their_store():
    assert access.problems() == []
    roles = access.access_policy()["roles"]
    assert set(roles) == set(access.ROLES)
    assert set(roles["analyst"]["reads"]) == {"analyst"}
    assert roles["student"]["reads"] == {}


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (
            ("roles", "analyst", "reads"),
            {"analyst": {"releases": ["no_such_release"]}},
            "release 'no_such_release' is not in releases.yaml",
        ),
        (
            ("roles", "analyst", "reads"),
            {"archive": {"schemas": ["main"]}},
            "roles.analyst.reads.archive: unknown store",
        ),
        (
            ("roles", "analyst", "reads"),
            {"warehouse": {"releases": "all"}},
            "releases are in the analyst store only",
        ),
        (
            ("roles", "analyst", "reads"),
            {"analyst": {"rows": "all"}},
            "give one or more of schemas, tables, releases",
        ),
        (("requests", "channel"), "", "requests.channel is missing"),
    ],
    ids=[
        "unknown-release",
        "unknown-store",
        "release-outside-analyst",
        "unknown-grant",
        "no-channel",
    ],
)
def test_when_the_access_policy_names_what_does_not_exist_then_the_problem_is_named(
    tmp_path, path, value, problem
):
    folder = tmp_path / "policies"
    shutil.copytree(policy.POLICY_DIR, folder)
    document = access.access_policy(folder)
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    (folder / "access.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    found = access.problems(folder)
    assert any(problem in p and "access.yaml" in p for p in found), found

"""The `steward` command line: contract, errors and status output."""

from __future__ import annotations

import json

import pytest

from steward.cli import main


def test_when_ingest_is_given_a_missing_folder_then_it_exits_2_naming_the_path(
    steward_home, tmp_path, capsys
):
    missing = tmp_path / "nowhere"
    assert main(["ingest", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"{missing}: no such file or folder" in err
    assert "Traceback" not in err


def test_when_status_runs_on_an_empty_home_then_it_reports_stores_absent(steward_home, capsys):
    assert main(["status"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["steward_home"] == str(steward_home)
    assert report["stores"]["identified"] == {"exists": False}


def test_when_files_are_ingested_then_status_counts_rows_and_quarantine(
    steward_home, tmp_path, capsys
):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "consent.csv").write_text(
        "EVENT_ID,STUDENT_ID,PURPOSE,ACTION,OCCURRED_AT\nE1,S0000001,intervention,grant,2025-10-01T09:00:00Z\n"
    )
    assert main(["ingest", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "1 in, 0 loaded, 1 quarantined (student_id: unknown student x1)" in out
    assert main(["status"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["quarantined_rows"] == 1
    assert report["stores"]["identified"]["tables"]["raw.consent_events"] == 0
    assert report["last_runs"]["ingest"]["outcome"] == "success"


def test_when_no_command_is_given_then_usage_is_shown(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2
    assert "usage: steward" in capsys.readouterr().err


def test_when_pii_scan_text_runs_then_it_writes_spans_per_id_and_prints_counts_only(
    tmp_path, capsys
):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"id": "n1", "text": "Email jane.doe@example.ac.uk or call 07700 900123."}\n'
        '{"id": "n2", "text": "Module CS1010 meets in room 2.14."}\n'
    )
    target = tmp_path / "out.jsonl"
    assert main(["pii", "scan-text", str(source), str(target)]) == 0
    out = capsys.readouterr().out
    assert "jane.doe" not in out
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["n1", "n2"]
    assert {s["entity_type"] for s in rows[0]["spans"]} >= {"EMAIL_ADDRESS", "UK_PHONE"}
    assert rows[1]["spans"] == []


def test_when_pii_scan_text_meets_a_bad_line_then_it_exits_2_naming_file_and_line(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "n1", "text": "fine"}\n{"id": "n2"}\n')
    assert main(["pii", "scan-text", str(source), str(tmp_path / "out.jsonl")]) == 2
    err = capsys.readouterr().err
    assert f"{source}:2" in err and "text" in err

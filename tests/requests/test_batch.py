"""Pending requests answered as a batch end as answering them one by one would, each with
its own record; one that fails leaves the others done and itself open."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steward.requests.erase import ErasureIncomplete
from steward.requests.handle import Outcome, Request, answer, submit

from .conftest import Look, _copy_home

RECEIVED = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _students(look: Look, n: int) -> list[str]:
    """Students with results and VLE events, held in every zone."""
    rows = look.query(
        "identified",
        """select s.student_id from raw.students s
        where exists (select 1 from raw.vle_events v where v.student_id = s.student_id)
          and exists (select 1 from identity.identity_map m where m.source_id = s.student_id)
        order by 1 limit ?""",
        [n],
    )
    assert len(rows) == n
    return [s for (s,) in rows]


def _requests(students: list[str]) -> list[Request]:
    """Accesses and erasures of different students, an access of an erased student after
    its erasure, and a rectification and a refusal among them."""
    kinds = ["erasure", "access", "erasure", "access", "erasure", "access"]
    made = [
        Request(f"B{n:02d}", kind, student, received_at=RECEIVED, source="extract")
        for n, (kind, student) in enumerate(zip(kinds, students, strict=True))
    ]
    made.append(Request("B10", "access", students[0], received_at=RECEIVED, source="extract"))
    made.append(
        Request("B11", "rectification", students[1], "postcode", "M32 9NJ", RECEIVED, "extract")
    )
    made.append(Request("B12", "access", "x' or 1=1", received_at=RECEIVED, source="extract"))
    return made


def _end_state(home: Path) -> dict:
    """Rows per table in each store, the request log, the landing files and the exports."""
    look, state = Look(home), {}
    for store in ("identified", "warehouse"):
        for (table,) in look.query(
            store,
            "select schema_name || '.' || table_name from duckdb_tables() "
            "where database_name = current_database() and table_name <> 'loaded_files'",
        ):
            state[f"{store}.{table}"] = look.query(store, f"select count(*) from {table}")
    state["log"] = look.query(
        "audit", "select request_id, status, counts, reason from request_log order by 1"
    )
    state["files"] = {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "landing").rglob("*"))
        if p.is_file()
    }
    # the loads recounted, and an entry for every file's current content (a batch records
    # one per file changed, one by one a chain of them)
    state["ledger"] = look.query(
        "identified",
        "select source_file, file_hash, rows_in, rows_loaded, rows_quarantined "
        "from raw.loaded_files where rows_in > 0 or file_hash in (select unnest(?)) order by all",
        [list(state["files"].values())],
    )
    exports = sorted((home / "exports").rglob("*.zip")) if (home / "exports").exists() else []
    for archive in exports:
        with zipfile.ZipFile(archive) as zf:
            state[archive.name] = {
                n: zf.read(n) for n in zf.namelist() if n not in {"index.html", "manifest.json"}
            }
    return state


def test_when_requests_are_answered_as_a_batch_then_they_end_as_one_by_one(
    request_home, scored_home, tmp_path, monkeypatch
):
    students = _students(Look(request_home), 6)
    one_by_one = tmp_path / "one-by-one"
    _copy_home(scored_home.home, one_by_one)

    batched = answer(_requests(students))

    monkeypatch.setenv("STEWARD_HOME", str(one_by_one))
    singly = []
    for r in _requests(students):
        singly.append(
            submit(
                r.request_type,
                r.student_id,
                field_name=r.field_name,
                value=r.value,
                received_at=r.received_at,
                request_id=r.request_id,
                source=r.source,
            )
        )
    assert [(o.status, o.counts, o.reason) for o in batched] == [
        (o.status, o.counts, o.reason) for o in singly
    ]
    assert [o.status for o in batched] == ["done"] * 8 + ["refused"]
    assert batched[6].counts["tables"]["identified.raw.enrolments"]["rows_exported"] > 0, (
        "the access after an erasure finds only the statutory record it left"
    )
    assert _end_state(request_home) == _end_state(one_by_one)


def test_when_one_erasure_of_a_batch_fails_then_the_others_finish_and_it_stays_open(
    request_home, look
):
    students = _students(look, 4)
    failing = look.student(students[1])
    # a table the catalogue does not know names one student: their erasure cannot verify
    con = __import__("duckdb").connect(str(request_home / "warehouse.duckdb"))
    con.execute("create schema scratch")
    con.execute("create table scratch.kept (student_pseudonym varchar)")
    con.execute("insert into scratch.kept values (?)", [failing.pseudonym])
    con.close()
    requests = [
        Request(f"F{n}", kind, student, received_at=RECEIVED)
        for n, (kind, student) in enumerate(
            zip(["erasure", "erasure", "erasure", "access"], students, strict=True)
        )
    ]

    answered = answer(requests)

    assert isinstance(answered[1], ErasureIncomplete)
    assert "scratch.kept.student_pseudonym" in str(answered[1])
    assert failing.student_id not in str(answered[1])
    assert [type(a) for a in answered] == [Outcome, ErasureIncomplete, Outcome, Outcome]
    assert [a.status for a in answered if isinstance(a, Outcome)] == ["done"] * 3
    log = dict(look.query("audit", "select request_id, status from request_log"))
    assert log == {"F0": "done", "F1": "open", "F2": "done", "F3": "done"}
    held = "select count(*) from raw.students where student_id = ?"
    assert [look.query("identified", held, [s]) for s in students[:3]] == [
        [(0,)],
        [(1,)],
        [(0,)],
    ]
    for erased in (answered[0], answered[2]):
        assert erased.counts["tables"]["warehouse.staging.stg_sis__students"] == {"deleted": 1}
        assert erased.counts["files"]["landing"]["files_changed"] > 0


def test_when_pending_requests_include_a_failure_then_the_run_raises_naming_only_it(
    request_home, look, monkeypatch
):
    from steward.requests import handle

    students = _students(look, 2)
    rows = [
        {
            "request_id": f" P{n} ",
            "student_id": student,
            "request_type": kind,
            "field": None,
            "new_value": None,
            "received_at": RECEIVED,
        }
        for n, (kind, student) in enumerate([("access", students[0]), ("shred", students[1])])
    ]
    monkeypatch.setattr(handle, "pending", lambda: rows)

    with pytest.raises(RuntimeError, match=r"1 request\(s\) failed and stay open: P1; 1 others"):
        handle.process_pending()

    assert look.query("audit", "select request_id, status from request_log") == [("P0", "done")]
    assert json.loads(
        look.query("audit", "select counts from request_log where request_id = 'P0'")[0][0]
    )["tables"]

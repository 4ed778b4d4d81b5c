"""The data and HTML of each Stewardship page, from stores written by the real writers
(audit entries, risk reports, PII findings) in a fresh STEWARD_HOME."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from steward import audit, stores
from steward.pii.columns import Finding
from steward.pii.columns import record as record_findings
from steward.release import report
from steward.requests import log as request_log
from steward.retention.sweep import summarise
from steward.stewardship import pages, render

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PAGES = [
    ("overview", pages.overview, render.overview),
    ("retention", pages.retention_runs, render.retention),
    ("releases", pages.release_gate, render.releases),
    ("requests", pages.student_requests, render.requests),
    ("models", pages.model_registry, render.models),
    ("pii", pages.pii_findings, render.pii),
    ("transparency", pages.transparency_report, render.transparency),
]


def sweep_steps(run_id: str, started_at: datetime, step: str, tables: list[tuple]) -> None:
    """Per-table entries of one step of a sweep, as `steward.retention.sweep` records them:
    (store, table, category, action, rows, outcome) each."""
    audit.record_many(
        run_id,
        f"retention.{step}",
        [
            {
                "outcome": outcome,
                "store": store,
                "table_name": table,
                "rows_affected": rows,
                "detail": {"action": action, "category": category, "as_of": "2026-03-02"},
            }
            for store, table, category, action, rows, outcome in tables
        ],
        started_at=started_at,
    )


def sweep_summary(run_id: str, started_at: datetime, outcome: str, due: int, changed: int):
    summarise(
        run_id,
        outcome,
        date(2026, 3, 2),
        dry_run=False,
        started_at=started_at,
        planned=[{"store": "identified", "rows": due}],
        applied=[{"store": "identified", "rows": changed}] if changed else [],
    )


@pytest.mark.parametrize(("page", "data", "html"), PAGES, ids=[p[0] for p in PAGES])
def test_when_nothing_has_run_then_the_page_says_nothing_yet(steward_home, page, data, html):
    out = html(data())

    assert render.NOTHING_YET in out
    assert not (steward_home / "audit.duckdb").exists(), "a page must not create a store"


@pytest.mark.parametrize(("page", "data", "html"), PAGES[1:6], ids=[p[0] for p in PAGES[1:6]])
def test_when_the_store_exists_without_the_table_then_the_page_says_nothing_yet(
    steward_home, page, data, html
):
    audit.record("ingest-1", "ingest", outcome="success", started_at=T0, rows_in=5)
    with stores.connect("warehouse") as con:
        con.execute("create table unrelated (x int)")

    assert render.NOTHING_YET in html(data())


VLE = ("identified", "raw.vle_events", "engagement", "delete")
NOTES = ("identified", "raw.case_notes", "pastoral_notes", "anonymise")


def test_retention_page_lists_each_run_with_rows_per_table_and_action(steward_home):
    sweep_steps("sweep-old", T0, "plan", [(*VLE, 120, "success")])
    sweep_summary("sweep-old", T0, "awaiting_approval", due=120, changed=0)
    later = T0 + timedelta(days=1)
    sweep_steps("sweep-new", later, "plan", [(*VLE, 1234, "success"), (*NOTES, 7, "success")])
    sweep_steps("sweep-new", later, "apply", [(*VLE, 1234, "success"), (*NOTES, 7, "success")])
    sweep_steps("sweep-new", later, "verify", [(*VLE, 0, "success"), (*NOTES, 2, "failed")])
    sweep_summary("sweep-new", later, "failed", due=1241, changed=1241)
    audit.record("ingest-9", "ingest", outcome="success", started_at=T0, rows_in=77777)

    data = pages.retention_runs()
    out = render.retention(data)

    assert [r["run_id"] for r in data["runs"]] == ["sweep-new", "sweep-old"]
    new = data["runs"][0]
    assert [(e["step"], e["table"], e["action"], e["rows"]) for e in new["entries"]] == [
        ("plan", "raw.vle_events", "delete", 1234),
        ("plan", "raw.case_notes", "anonymise", 7),
        ("apply", "raw.vle_events", "delete", 1234),
        ("apply", "raw.case_notes", "anonymise", 7),
        ("verify", "raw.vle_events", "delete", 0),
        ("verify", "raw.case_notes", "anonymise", 2),
    ]
    assert (new["outcome"], new["rows_due"], new["rows_changed"]) == ("failed", 1241, 1241)
    assert (new["verification"], new["rows_still_due"]) == ("failed", 2)
    assert data["runs"][1]["verification"] is None
    assert data["pending_approvals"] == [], "a sweep that ended later supersedes the wait"
    assert "sweep-new" in out and "sweep-old" in out
    assert '<td class="n">1234</td>' in out and '<td class="n">1241</td>' in out
    assert "failed (2 rows still due)" in out
    assert "pastoral_notes" in out and "anonymise" in out
    assert "77777" not in out, "only retention entries belong on this page"


def test_when_the_latest_sweep_awaits_approval_then_it_is_pending(steward_home):
    sweep_summary("sweep-1", T0, "success", due=5, changed=5)
    sweep_steps("sweep-2", T0 + timedelta(days=1), "plan", [(*VLE, 900, "success")])
    sweep_summary("sweep-2", T0 + timedelta(days=1), "awaiting_approval", due=900, changed=0)

    data = pages.retention_runs()

    assert [(r["run_id"], r["rows_due"]) for r in data["pending_approvals"]] == [("sweep-2", 900)]
    assert pages.overview()["pending_approvals"] == 1
    assert '<td class="n">900</td>' in render.retention(data).split("<h2>")[0]


def test_when_an_approved_sweep_ends_then_nothing_is_pending(steward_home):
    sweep_summary("sweep-1", T0, "awaiting_approval", due=900, changed=0)
    sweep_summary("sweep-1", T0, "success", due=900, changed=900)

    data = pages.retention_runs()

    assert data["pending_approvals"] == []
    assert data["runs"][0]["outcome"] == "success"


def release_report(name: str, run_id: str, *, passed: bool, k: tuple, reasons: list[str]) -> dict:
    """A gate outcome as `release.publish` hands it to the report writer."""
    return {
        "run_id": run_id,
        "name": name,
        "kind": "microdata",
        "status": "published" if passed else "blocked",
        "reasons": reasons,
        "previous_version_kept": not passed,
        "rows_before": 800,
        "rows_published": 790 if passed else 0,
        "suppressed_rows": 10,
        "before": {"k": k[0], "l_distinct": 1, "t_closeness": 0.61},
        "after": {"k": k[1], "l_distinct": 2, "t_closeness": 0.25},
        "levels": {"age_band": 2, "sex": 0},
        "information_loss": {"normalised": 0.125},
    }


def test_release_gate_page_shows_measures_before_and_after_levels_and_reasons(steward_home):
    report.record(
        [
            release_report("by_age", "rel-1", passed=False, k=(1, 3), reasons=["k=3 below 5"]),
            release_report("by_imd", "rel-1", passed=True, k=(2, 11), reasons=[]),
        ],
        T0,
    )
    report.record(
        [release_report("by_age", "rel-2", passed=True, k=(1, 6), reasons=[])],
        T0 + timedelta(hours=1),
    )

    data = pages.release_gate()
    out = render.releases(data)

    latest = {r["release_name"]: r for r in data["latest"]}
    assert (latest["by_age"]["run_id"], latest["by_age"]["status"]) == ("rel-2", "published")
    assert (latest["by_age"]["k_before"], latest["by_age"]["k_after"]) == (1, 6)
    assert (latest["by_imd"]["k_before"], latest["by_imd"]["k_after"]) == (2, 11)
    assert latest["by_imd"]["levels"] == {"age_band": 2, "sex": 0}
    assert [(r["run_id"], r["release_name"]) for r in data["history"]] == [
        ("rel-2", "by_age"),
        ("rel-1", "by_age"),
        ("rel-1", "by_imd"),
    ]
    assert data["history"][1]["reasons"] == ["k=3 below 5"]
    assert "k=3 below 5" in out
    assert "age_band: 2, sex: 0" in out
    assert '<td class="n">0.61</td>' in out and '<td class="n">0.25</td>' in out
    assert pages.overview()["releases_blocked"] == 0


TODAY = date(2026, 3, 20)


@pytest.mark.parametrize(
    ("received_at", "days_left", "is_overdue"),
    [
        (datetime(2026, 3, 1, 9, tzinfo=UTC), 12, False),
        (datetime(2026, 2, 20, 9, tzinfo=UTC), 0, False),
        (datetime(2026, 2, 17, 9, tzinfo=UTC), -3, True),
    ],
    ids=["due_in_12_days", "due_today", "overdue_by_3_days"],
)
def test_when_a_request_is_open_then_the_page_counts_the_days_left_of_its_month(
    steward_home, received_at, days_left, is_overdue
):
    request_log.receive("request-1", "access", received_at, "cli")

    data = pages.student_requests(TODAY)
    out = render.requests(data)

    assert [(r["request_id"], r["days_left"], r["is_overdue"]) for r in data["open"]] == [
        ("request-1", days_left, is_overdue)
    ]
    assert f'<td class="n">{days_left}</td><td>{"yes" if is_overdue else "no"}</td>' in out
    assert "within 1 calendar month of receipt" in out


def test_requests_page_separates_open_and_closed_with_days_late(steward_home):
    now = datetime.now(UTC)
    request_log.receive("request-a", "erasure", now - timedelta(days=3), "cli")
    request_log.finish("request-a", "done", started_at=now, counts={"tables": {}})
    request_log.receive("request-b", "access", datetime(2020, 1, 5, tzinfo=UTC), "extract")
    request_log.finish("request-b", "refused", started_at=now, reason="no student S0001")
    request_log.receive("request-c", "rectification", datetime(2026, 3, 19, tzinfo=UTC), "cli")

    data = pages.student_requests(TODAY)
    out = render.requests(data)

    assert [(r["request_id"], r["days_left"]) for r in data["open"]] == [("request-c", 30)]
    late = {r["request_id"]: r["days_late"] for r in data["closed"]}
    assert late == {"request-a": 0, "request-b": (now.date() - date(2020, 2, 5)).days}
    assert "request-a" in out and "erasure" in out and "refused" in out
    assert "S0001" not in out, "a refusal's reason may quote the request; it is not shown"
    assert pages.overview(TODAY)["requests_open"] == 1


def finding(store: str, table: str, column: str, entity: str | None, verdict: str) -> Finding:
    return Finding(
        store=store,
        table=table,
        column=column,
        entity=entity,
        sampled=200,
        share=0.875,
        confidence=0.85,
        declared="EMAIL_ADDRESS" if verdict == "declared" else None,
        verdict=verdict,
    )


def test_pii_page_shows_the_latest_scan_per_store_flagged_columns_first(steward_home):
    record_findings(
        [finding("warehouse", "marts.old", "email", "EMAIL_ADDRESS", "undeclared")], "scan-1"
    )
    record_findings(
        [
            finding("warehouse", "staging.stg_notes", "body", "PERSON", "declared"),
            finding("warehouse", "marts.fct_x", "comment", "UK_NINO", "undeclared"),
            finding("warehouse", "marts.fct_x", "week_number", None, "clean"),
        ],
        "scan-2",
    )
    record_findings(
        [finding("identified", "raw.students", "email", "EMAIL_ADDRESS", "declared")], "scan-3"
    )

    data = pages.pii_findings()
    out = render.pii(data)

    scans = {s["store"]: s for s in data["scans"]}
    warehouse = scans["warehouse"]
    assert warehouse["run_id"] == "scan-2"
    assert [(f["table_name"], f["column_name"], f["verdict"]) for f in warehouse["flagged"]] == [
        ("marts.fct_x", "comment", "undeclared"),
        ("staging.stg_notes", "body", "declared"),
    ]
    assert warehouse["verdicts"] == {"forbidden": 0, "undeclared": 1, "declared": 1, "clean": 1}
    assert scans["identified"]["run_id"] == "scan-3"
    assert "marts.old" not in out, "an older scan is superseded by the latest"
    assert "UK_NINO" in out and '<td class="n">0.875</td>' in out
    assert pages.overview()["pii_to_act_on"] == 1


def test_transparency_page_embeds_the_published_report(steward_home):
    assert pages.transparency_report()["exists"] is False
    path = pages.transparency_path()
    path.parent.mkdir(parents=True)
    path.write_text("<h1>How we use your data</h1>")

    data = pages.transparency_report()
    out = render.transparency(data)

    assert data["exists"] is True
    assert '<iframe src="transparency/report.html"' in out
    assert render.NOTHING_YET not in out


def test_every_page_links_to_every_other_page_relatively(steward_home):
    out = render.overview(pages.overview())

    for path, title in render.PAGES:
        assert f'<a href="./{path}"' in out and title in out


def test_when_a_task_is_writing_the_store_then_reading_it_raises_store_locked(
    steward_home, hold_write_lock
):
    audit.record("ingest-1", "ingest", outcome="success", started_at=T0)
    hold_write_lock("audit")

    with pytest.raises(stores.StoreLockedError, match="audit.duckdb"):
        pages.retention_runs()

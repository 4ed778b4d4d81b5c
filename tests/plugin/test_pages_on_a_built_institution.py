"""The Stewardship pages over a built institution after the real steps ran on it:
release gate, model training, a retention sweep, a student's access request and a PII
column scan. The pages show what those steps recorded, and no student."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from steward.model import policy as model_policy
from steward.model import run as model_run
from steward.pii.columns import check_store
from steward.release import run_release
from steward.requests.handle import submit
from steward.retention.sweep import sweep
from steward.stewardship import pages, render

KEY = "test-only-pseudonymisation-key-0123456789abcdef"  # as tests/conftest.py builds with
AS_OF = date(2029, 6, 30)  # years after the generated institution's modules ended


@pytest.fixture
def home(built_home, tmp_path, monkeypatch) -> Path:
    """A private copy of the built stores as STEWARD_HOME."""
    home = tmp_path / "home"
    home.mkdir()
    for store in ("identified", "warehouse", "audit"):
        if (built_home / f"{store}.duckdb").exists():
            shutil.copy(built_home / f"{store}.duckdb", home)
    monkeypatch.setenv("STEWARD_HOME", str(home))
    monkeypatch.setenv("STEWARD_PSEUDONYM_KEY", KEY)
    return home


def promotion_policy(monkeypatch, **thresholds) -> None:
    """Train under the model policy with these promotion thresholds instead."""
    raw = model_policy.load().raw
    policy = model_policy.ModelPolicy({**raw, "promotion": {**raw["promotion"], **thresholds}})
    monkeypatch.setattr(model_policy, "load", lambda: policy)


def train(monkeypatch, **thresholds) -> dict:
    with monkeypatch.context() as patch:
        promotion_policy(patch, **thresholds)
        return model_run.train(force=True)


PASS_ALL = {
    "min_roc_auc": 0.0,
    "max_expected_calibration_error": 1.0,
    "max_unstable_features_used": 99,
    "fairness": {
        **model_policy.load().promotion["fairness"],
        "max_equal_opportunity_difference": 1.0,
    },
}


def test_models_page_shows_every_registered_model_and_the_current_card(home, monkeypatch):
    refused = train(monkeypatch, min_roc_auc=1.01)
    promoted = train(monkeypatch, **PASS_ALL)

    data = pages.model_registry()
    out = render.models(data)

    assert refused["verdict"] == "refused" and promoted["verdict"] == "promoted"
    assert [(m["model_version"], m["status"]) for m in data["models"]] == [
        (promoted["version"], "current"),
        (refused["version"], "refused"),
    ]
    assert data["models"][1]["gate_failures"] == len(refused["failures"]) >= 1
    assert data["models"][0]["roc_auc"] == pytest.approx(promoted["roc_auc"], abs=1e-4)
    assert data["card"]["card"]["version"] == promoted["version"]
    assert data["card"]["markdown"].startswith("# Model card: ")
    assert refused["version"] in out and promoted["version"] in out
    assert "Full model card" in out
    assert pages.overview()["current_model"] == promoted["version"]


def test_release_gate_page_shows_each_release_the_gate_decided(home):
    summary = run_release()

    data = pages.release_gate()

    decided = {r["release_name"]: r["status"] for r in data["latest"]}
    assert decided == {
        **dict.fromkeys(summary["published"], "published"),
        **dict.fromkeys(summary["blocked"], "blocked"),
    }
    assert all(r["run_id"] == summary["run_id"] for r in data["latest"])
    assert all(r["k_after"] is not None for r in data["latest"] if r["status"] == "published")


def test_retention_page_shows_what_the_sweep_recorded(home):
    result = sweep(AS_OF, progress=lambda _message: None)

    data = pages.retention_runs()

    [run] = data["runs"]
    assert (run["run_id"], run["outcome"], run["as_of"]) == (
        result["run_id"],
        "success",
        AS_OF.isoformat(),
    )
    assert run["rows_changed"] == result["rows_changed"] > 0
    applied = sum(e["rows"] for e in run["entries"] if e["step"] == "apply")
    assert applied == result["rows_changed"]
    assert (run["verification"], run["rows_still_due"]) == ("passed", 0)


def identifiers(home: Path) -> set[str]:
    """Every student's ids, contact details, full name and pseudonym."""
    with duckdb.connect(str(home / "identified.duckdb"), read_only=True) as con:
        rows = con.execute(
            """select student_id, username, email, uln, husid, phone,
                      first_name || ' ' || last_name
               from raw.students"""
        ).fetchall()
        rows += con.execute("select pseudonym from identity.identity_map").fetchall()
    return {
        str(value) for row in rows for value in row if value is not None and len(str(value)) > 3
    }


def test_no_page_shows_a_student(home, monkeypatch):
    people = identifiers(home)
    with duckdb.connect(str(home / "identified.duckdb"), read_only=True) as con:
        [student] = con.execute("select min(student_id) from raw.students").fetchone()
    run_release()
    train(monkeypatch, **PASS_ALL)
    sweep(AS_OF, progress=lambda _message: None)
    assert submit("access", student, request_id="request-1").status == "done"
    check_store("identified")

    shown = "".join(
        [
            render.overview(pages.overview()),
            render.retention(pages.retention_runs()),
            render.releases(pages.release_gate()),
            render.requests(pages.student_requests()),
            render.models(pages.model_registry()),
            render.pii(pages.pii_findings()),
        ]
    )

    assert "request-1" in shown and "raw.students" in shown, "the pages hold the steps' records"
    found = sorted(p for p in people if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", shown))
    assert found == []

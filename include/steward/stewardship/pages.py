"""The data behind each page of the Stewardship view, read from the stores read-only.

One function per page, each returning plain dicts and lists. A store or table that does
not exist yet gives empty data (the page says "nothing yet"); a store another process is
writing raises `stores.StoreLockedError`, which the app turns into a "try again" page.
Queries name their columns: subject keys, pseudonyms and free text are never selected.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from steward import stores
from steward.requests import policy as request_policy

# Retention entries are audit rows whose action starts with this prefix.
RETENTION_PREFIX = "retention."
SWEEP_SUMMARY = "sweep"  # `retention.sweep`: one per run and state, the others per table
AWAITING_APPROVAL = "awaiting_approval"
ENDED = ("success", "failed", "rejected")
# Order in which PII verdicts are listed: the ones a steward must act on first.
PII_VERDICT_ORDER = ("forbidden", "undeclared", "declared", "clean")


def _rows(store: str, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a read-only query as dicts; none when the store or table is not there yet."""
    try:
        with stores.connect(store, read_only=True) as con:
            # A missing table must not be looked up among this module's Python names.
            con.execute("set python_enable_replacements = false")
            cursor = con.execute(sql, params or [])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except FileNotFoundError:
        return []
    except duckdb.CatalogException:
        return []


def _json(value: Any, default: Any) -> Any:
    return default if value is None else json.loads(value)


def retention_runs(limit: int = 20) -> dict[str, Any]:
    """The last `limit` retention sweeps, newest first: per run its outcome, rows due and
    changed, the plan, apply and verify entries per table (category, delete or anonymise,
    rows), the verification result; and the sweeps now awaiting a steward's approval."""
    entries = _rows(
        "audit",
        """select run_id, action, store, table_name, rows_in, rows_affected, outcome,
                  detail ->> 'action' as rule_action, detail ->> 'category' as category,
                  detail ->> 'as_of' as as_of, policy_version, started_at, ended_at
           from audit_log where starts_with(action, ?)
           order by started_at, ended_at, rowid""",
        [RETENTION_PREFIX],
    )
    runs: dict[str, dict[str, Any]] = {}
    for entry in entries:
        run = runs.setdefault(
            entry["run_id"],
            {
                "run_id": entry["run_id"],
                "started_at": entry["started_at"],
                "ended_at": entry["ended_at"],
                "as_of": entry["as_of"],
                "policy_version": entry["policy_version"],
                "outcome": "running",
                "rows_due": None,
                "rows_changed": None,
                "entries": [],
            },
        )
        run["ended_at"] = max(run["ended_at"], entry["ended_at"])
        step = entry["action"].removeprefix(RETENTION_PREFIX)
        if step == SWEEP_SUMMARY:
            # The latest summary of a run is its state (awaiting approval, then the end).
            run.update(
                outcome=entry["outcome"],
                rows_due=entry["rows_in"],
                rows_changed=entry["rows_affected"],
            )
            continue
        run["entries"].append(
            {
                "step": step,
                "store": entry["store"],
                "table": entry["table_name"],
                "category": entry["category"],
                "action": entry["rule_action"],
                "rows": entry["rows_affected"],
                "outcome": entry["outcome"],
            }
        )
    newest_first = sorted(runs.values(), key=lambda r: r["started_at"], reverse=True)
    for run in newest_first:
        checks = [e for e in run["entries"] if e["step"] == "verify"]
        run["verification"] = (
            None
            if not checks
            else "failed"
            if any(e["outcome"] != "success" for e in checks)
            else "passed"
        )
        run["rows_still_due"] = sum(e["rows"] or 0 for e in checks)
    return {"runs": newest_first[:limit], "pending_approvals": _pending(newest_first)}


def _pending(newest_first: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sweeps waiting for a steward, newer than the last sweep that ended."""
    pending = []
    for run in newest_first:
        if run["outcome"] in ENDED:
            break
        if run["outcome"] == AWAITING_APPROVAL:
            pending.append(run)
    return pending


def release_gate(limit: int = 50) -> dict[str, Any]:
    """Each release's latest decision, and the last `limit` decisions: k, l and t before
    and after, generalisation levels and the reasons for a block."""
    columns = """run_id, release_name, kind, status, reasons, previous_version_kept,
        rows_before, rows_published, suppressed_rows, k_before, k_after, l_before, l_after,
        t_before, t_after, levels, information_loss, created_at"""
    latest = _rows(
        "audit",
        f"""select {columns} from risk_reports
            qualify row_number() over (partition by release_name order by created_at desc) = 1
            order by release_name""",
    )
    history = _rows(
        "audit",
        f"select {columns} from risk_reports order by created_at desc, release_name limit ?",
        [limit],
    )
    for row in latest + history:
        row["reasons"] = _json(row["reasons"], [])
        row["levels"] = _json(row["levels"], {})
    return {"latest": latest, "history": history}


def student_requests(today: date | None = None) -> dict[str, Any]:
    """Open requests with the days left to their deadline (negative: overdue), and closed
    ones with how many days late they were answered. Neither the student nor a refusal's
    reason is shown: the log links no request to a student, and a reason may quote input."""
    today = today or datetime.now(UTC).date()
    rows = _rows(
        "audit",
        """select request_id, request_type, source, received_at, due_by, status, completed_at
           from request_log order by received_at desc""",
    )
    open_, closed = [], []
    for row in rows:
        due = _as_date(row["due_by"])
        if row["completed_at"] is None:
            row["days_left"] = (due - today).days
            row["is_overdue"] = row["days_left"] < 0
            open_.append(row)
        else:
            row["days_late"] = max(0, (_as_date(row["completed_at"]) - due).days)
            closed.append(row)
    open_.sort(key=lambda r: r["days_left"])
    return {
        "today": today,
        "due_within_months": request_policy.load().due_within_months,
        "open": open_,
        "closed": closed,
    }


def _as_date(value: date | datetime) -> date:
    return value.astimezone(UTC).date() if isinstance(value, datetime) else value


def model_registry() -> dict[str, Any]:
    """Every registered model (newest first) with its headline metrics, and the model
    card of the current one."""
    rows = _rows(
        "warehouse",
        """select model_version, trained_at, status, verdict, promoted_at, metrics,
                  failures, features, training_snapshot
           from scoring.model_registry order by trained_at desc""",
    )
    for row in rows:
        metrics = _json(row.pop("metrics"), {})
        row["roc_auc"] = metrics.get("roc_auc")
        row["pr_auc"] = metrics.get("pr_auc")
        row["brier"] = metrics.get("brier")
        row["gate_failures"] = len(_json(row.pop("failures"), []))
        row["features"] = _json(row["features"], [])
    current = next((r for r in rows if r["status"] == "current"), None)
    return {
        "models": rows,
        "current": current,
        "card": _card(current["model_version"]) if current else None,
    }


def _card(version: str) -> dict[str, Any] | None:
    folder = stores.home() / "models" / version
    card_json, card_md = folder / "card.json", folder / "card.md"
    if not card_json.exists():
        return None
    return {
        "card": json.loads(card_json.read_text(encoding="utf-8")),
        "markdown": card_md.read_text(encoding="utf-8") if card_md.exists() else None,
    }


def pii_findings() -> dict[str, Any]:
    """Per store the findings of its latest column scan: flagged columns (entity, share
    of sampled values, confidence, what is declared, verdict) and how many were clean."""
    rows = _rows(
        "audit",
        """select store, run_id, scanned_at, table_name, column_name, entity, sampled_values,
                  share, confidence, declared_entity, verdict
           from pii_findings
           qualify run_id = first_value(run_id) over (partition by store order by scanned_at desc)
           order by store, table_name, column_name""",
    )
    scans: dict[str, dict[str, Any]] = {}
    for row in rows:
        scan = scans.setdefault(
            row["store"],
            {
                "store": row["store"],
                "run_id": row["run_id"],
                "scanned_at": row["scanned_at"],
                "verdicts": dict.fromkeys(PII_VERDICT_ORDER, 0),
                "flagged": [],
            },
        )
        scan["verdicts"][row["verdict"]] = scan["verdicts"].get(row["verdict"], 0) + 1
        if row["verdict"] != "clean":
            scan["flagged"].append(row)
    for scan in scans.values():
        scan["flagged"].sort(key=lambda r: _verdict_rank(r["verdict"]))
    return {"scans": sorted(scans.values(), key=lambda s: s["store"])}


def _verdict_rank(verdict: str) -> int:
    return PII_VERDICT_ORDER.index(verdict) if verdict in PII_VERDICT_ORDER else -1


def transparency_report() -> dict[str, Any]:
    """Where the published transparency report is, if it has been written."""
    path = transparency_path()
    if not path.exists():
        return {"exists": False, "path": str(path)}
    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return {"exists": True, "path": str(path), "modified_at": modified}


def transparency_path() -> Path:
    return stores.home() / "reports" / "transparency.html"


def overview(today: date | None = None) -> dict[str, Any]:
    """One line per page: what a steward should look at first."""
    retention = retention_runs(limit=1)
    releases = release_gate()
    requests = student_requests(today)
    models = model_registry()
    pii = pii_findings()
    last_sweep = retention["runs"][0] if retention["runs"] else None
    return {
        "last_sweep": last_sweep,
        "pending_approvals": len(retention["pending_approvals"]),
        "releases_blocked": sum(r["status"] != "published" for r in releases["latest"]),
        "releases": len(releases["latest"]),
        "requests_open": len(requests["open"]),
        "requests_overdue": sum(r["is_overdue"] for r in requests["open"]),
        "current_model": models["current"]["model_version"] if models["current"] else None,
        "pii_to_act_on": sum(
            s["verdicts"].get("forbidden", 0) + s["verdicts"].get("undeclared", 0)
            for s in pii["scans"]
        ),
        "transparency_report": transparency_report()["exists"],
    }

"""HTML for the Stewardship view: one function per page, from the data of `pages`.

Plain server-rendered pages that read well inside the Airflow UI's frame. Links are
relative, so the view works under any `[api] base_url`. Every value is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

# (path below the app's root, title in the menu)
PAGES = (
    ("", "Overview"),
    ("retention", "Retention runs"),
    ("releases", "Release gate"),
    ("requests", "Student requests"),
    ("models", "Models"),
    ("pii", "PII findings"),
    ("transparency", "Transparency report"),
)
NOTHING_YET = "Nothing yet."

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#fff}
nav{display:flex;flex-wrap:wrap;gap:.2em 1.2em;padding:.8em 1.5em;background:#f1f4f8;
border-bottom:1px solid #d5dbe3}
nav a{color:#1b4f8a;text-decoration:none}nav a[aria-current]{font-weight:bold;color:#1d2733}
main{padding:1em 1.5em 3em;max-width:80em}
table{border-collapse:collapse;margin:.4em 0 1.4em}caption{text-align:left;font-weight:600;
padding:.3em 0}td,th{border:1px solid #c9d1db;padding:.25em .6em;text-align:left;
vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f6f8fa}.bad{color:#a61b1b;font-weight:600}.good{color:#176b2c}
.empty{color:#5d6b7a;font-style:italic}pre{white-space:pre-wrap;background:#f6f8fa;
padding:1em;border:1px solid #d5dbe3}iframe{width:100%;height:80vh;border:1px solid #d5dbe3}
"""
_GOOD = {"success", "published", "passed", "current", "promoted", "declared", "done"}
_BAD = {"failed", "blocked", "refused", "rejected", "forbidden", "undeclared", "awaiting_approval"}


def _text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "–"
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value)) or "–"
    return str(value)


def _cell(value: Any) -> str:
    css = ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        css = ' class="n"'
    elif isinstance(value, str) and value in _GOOD:
        css = ' class="good"'
    elif isinstance(value, str) and value in _BAD:
        css = ' class="bad"'
    return f"<td{css}>{html.escape(_text(value))}</td>"


def _empty(what: str = "") -> str:
    return f'<p class="empty">{NOTHING_YET}{" " + html.escape(what) if what else ""}</p>'


def table(
    caption: str | None,
    columns: Mapping[str, str],
    rows: Iterable[Mapping[str, Any]],
    *,
    label: str,
) -> str:
    """A table of `rows` with one column per `columns` entry (heading -> key), named
    `label` for assistive technology (and tests); "Nothing yet." when there are no rows."""
    body = "".join(
        "<tr>" + "".join(_cell(row.get(key)) for key in columns.values()) + "</tr>" for row in rows
    )
    title = f"<h3>{html.escape(caption)}</h3>" if caption else ""
    if not body:
        return title + _empty()
    head = "".join(f"<th>{html.escape(h)}</th>" for h in columns)
    return (
        f'{title}<table aria-label="{html.escape(label)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def facts(pairs: Iterable[tuple[str, Any]], *, label: str) -> str:
    """A table of what (row heading) and value."""
    body = "".join(f'<tr><th scope="row">{html.escape(k)}</th>{_cell(v)}</tr>' for k, v in pairs)
    return f'<table aria-label="{html.escape(label)}"><tbody>{body}</tbody></table>'


def layout(current: str, title: str, body: str) -> str:
    """A whole page: the menu of pages (links relative to the app's root) and `body`."""
    links = "".join(
        f'<a href="./{path}"{" aria-current=page" if path == current else ""}>'
        f"{html.escape(name)}</a>"
        for path, name in PAGES
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Stewardship: {html.escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><nav aria-label="Stewardship pages">{links}</nav>'
        f"<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )


def overview(data: dict[str, Any]) -> str:
    sweep = data["last_sweep"]
    last_sweep = (
        f"{sweep['run_id']}: {sweep['outcome']}, {_text(sweep['rows_changed'])} rows changed, "
        f"verification {sweep['verification'] or 'not run'}"
        if sweep
        else NOTHING_YET
    )
    pairs = [
        ("Last retention sweep", last_sweep),
        ("Sweeps awaiting approval", data["pending_approvals"]),
        ("Releases blocked (latest decision)", f"{data['releases_blocked']} of {data['releases']}"),
        ("Student requests open", data["requests_open"]),
        ("Student requests overdue", data["requests_overdue"]),
        ("Current model", data["current_model"] or NOTHING_YET),
        ("PII columns to act on (undeclared or forbidden)", data["pii_to_act_on"]),
        ("Transparency report published", data["transparency_report"]),
    ]
    intro = (
        "<p>What the platform did to the data it holds: counts, measures and verdicts only. "
        "No student appears on these pages.</p>"
    )
    return layout("", "Stewardship", intro + facts(pairs, label="overview"))


def retention(data: dict[str, Any]) -> str:
    pending = table(
        "Awaiting a steward's approval (Browse > Required Actions)",
        {"run": "run_id", "started": "started_at", "as of": "as_of", "rows due": "rows_due"},
        data["pending_approvals"],
        label="pending approvals",
    )
    steps = {
        "step": "step",
        "store": "store",
        "table": "table",
        "category": "category",
        "action": "action",
        "rows": "rows",
        "outcome": "outcome",
    }
    runs = []
    for run in data["runs"]:
        verification = run["verification"] or "not run"
        if run["verification"]:
            verification += f" ({run['rows_still_due']} rows still due)"
        summary = facts(
            [
                ("outcome", run["outcome"]),
                ("sweep date (as of)", run["as_of"]),
                ("started", run["started_at"]),
                ("ended", run["ended_at"]),
                ("rows due", run["rows_due"]),
                ("rows changed", run["rows_changed"]),
                ("verification", verification),
                ("policy version", run["policy_version"]),
            ],
            label=f"retention run {run['run_id']} summary",
        )
        runs.append(
            f"<section><h2>Run <code>{html.escape(run['run_id'])}</code></h2>{summary}"
            + table(None, steps, run["entries"], label=f"retention run {run['run_id']}")
            + "</section>"
        )
    history = "".join(runs) or _empty("No retention sweep has run.")
    return layout("retention", "Retention runs", pending + history)


def releases(data: dict[str, Any]) -> str:
    columns = {
        "release": "release_name",
        "kind": "kind",
        "status": "status",
        "rows published": "rows_published",
        "rows suppressed": "suppressed_rows",
        "k before": "k_before",
        "k after": "k_after",
        "l before": "l_before",
        "l after": "l_after",
        "t before": "t_before",
        "t after": "t_after",
        "levels": "levels",
        "reasons blocked": "reasons",
    }
    latest = table("Latest decision per release", columns, data["latest"], label="latest releases")
    history = table(
        "History",
        {"run": "run_id", "decided at": "created_at", **columns},
        data["history"],
        label="release history",
    )
    return layout("releases", "Release gate", latest + history)


def requests(data: dict[str, Any]) -> str:
    months = data["due_within_months"]
    intro = (
        f"<p>Today is {data['today'].isoformat()}. A request is answered within {months} "
        f"calendar month{'s' if months != 1 else ''} of receipt "
        "(<code>include/policies/requests.yaml</code>).</p>"
    )
    columns = {
        "request": "request_id",
        "type": "request_type",
        "from": "source",
        "received": "received_at",
        "due by": "due_by",
        "status": "status",
    }
    open_ = table(
        "Open",
        {**columns, "days left": "days_left", "overdue": "is_overdue"},
        data["open"],
        label="open requests",
    )
    closed = table(
        "Closed",
        {**columns, "completed": "completed_at", "days late": "days_late"},
        data["closed"],
        label="closed requests",
    )
    return layout("requests", "Student requests", intro + open_ + closed)


def models(data: dict[str, Any]) -> str:
    registry = table(
        "Registry",
        {
            "version": "model_version",
            "trained": "trained_at",
            "status": "status",
            "verdict": "verdict",
            "promoted": "promoted_at",
            "ROC AUC": "roc_auc",
            "PR AUC": "pr_auc",
            "Brier": "brier",
            "gate failures": "gate_failures",
        },
        data["models"],
        label="model registry",
    )
    card = "<h3>Current model card</h3>"
    if data["card"] is None:
        card += _empty("No model is current.")
    else:
        c = data["card"]["card"]
        keys = ("name", "version", "owner", "verdict", "purpose", "features")
        card += facts([(key, c.get(key)) for key in keys], label="model card")
        if data["card"]["markdown"]:
            card += (
                "<details><summary>Full model card</summary>"
                f"<pre>{html.escape(data['card']['markdown'])}</pre></details>"
            )
    return layout("models", "Models", registry + card)


def pii(data: dict[str, Any]) -> str:
    columns = {
        "table": "table_name",
        "column": "column_name",
        "entity": "entity",
        "share of sample": "share",
        "confidence": "confidence",
        "declared": "declared_entity",
        "verdict": "verdict",
    }
    sections = []
    for scan in data["scans"]:
        counts = ", ".join(f"{v} {k}" for k, v in scan["verdicts"].items())
        sections.append(
            f"<section><h2>{html.escape(scan['store'])}</h2><p>Latest scan "
            f"<code>{html.escape(scan['run_id'])}</code>, {html.escape(_text(scan['scanned_at']))}"
            f": {html.escape(counts)} columns.</p>"
            + table(None, columns, scan["flagged"], label=f"pii findings {scan['store']}")
            + "</section>"
        )
    body = "".join(sections) or _empty("No column scan has run.")
    return layout("pii", "PII findings", body)


def transparency(data: dict[str, Any]) -> str:
    if not data["exists"]:
        body = _empty("The transparency report has not been published.")
    else:
        body = (
            f"<p>Published {html.escape(_text(data['modified_at']))}. "
            '<a href="transparency/report.html" target="_blank">Open it on its own</a>.</p>'
            '<iframe src="transparency/report.html" title="Transparency report"></iframe>'
        )
    return layout("transparency", "Transparency report", body)


def busy(current: str, message: str) -> str:
    """The page shown while a store is being written by a running task."""
    return layout(
        current,
        dict(PAGES)[current],
        '<p class="empty">A task is writing this data right now; reload in a moment.</p>'
        f"<p><small>{html.escape(message)}</small></p>",
    )

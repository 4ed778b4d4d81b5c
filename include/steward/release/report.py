"""Risk reports: per release a JSON file, an HTML page and a row in `audit.risk_reports`.

Written under `$STEWARD_HOME/reports/releases/<release>/` (`risk_report.json`,
`risk_report.html`: the latest run) and appended to the `risk_reports` table of the
audit store (every run). They hold thresholds, measures, levels and counts only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from steward import stores

SCHEMA = """
create table if not exists risk_reports (
    run_id varchar not null,
    release_name varchar not null,
    kind varchar not null,
    status varchar not null,
    reasons json,
    previous_version_kept boolean not null,
    rows_before bigint,
    rows_published bigint,
    suppressed_rows bigint,
    k_before bigint,
    k_after bigint,
    l_before bigint,
    l_after bigint,
    t_before double,
    t_after double,
    levels json,
    information_loss double,
    report json not null,
    created_at timestamptz not null,
    primary key (run_id, release_name)
)
"""


def report_dir(name: str) -> Path:
    path = stores.home() / "reports" / "releases" / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def measure_value(measures: Mapping[str, Any] | None, key: str) -> Any:
    """A measure of microdata; for an aggregate, k is its smallest published cell."""
    if measures is None:
        return None
    if key == "k" and "k" not in measures:
        return measures.get("smallest_nonzero_cell")
    return measures.get(key)


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Mapping[str, Any]) -> str:
    """A page a steward can read: decision, reasons, measures before and after, levels."""
    name = html.escape(report["name"])
    status = report["status"]
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in report["reasons"]) or "<li>none</li>"
    before, after = report.get("before") or {}, report.get("after") or {}
    measures = _table(
        ["measure", "before", "after"],
        [[key, before.get(key), after.get(key)] for key in dict.fromkeys([*before, *after])],
    )
    thresholds = _table(["threshold", "value"], [[k, v] for k, v in report["thresholds"].items()])
    levels = _table(["quasi-identifier", "level chosen"], list(map(list, report["levels"].items())))
    loss = _table(
        ["information loss", "value"], list(map(list, report["information_loss"].items()))
    )
    linkage = _table(
        ["releases", "quasi-identifiers", "students", "k", "k needed", "passed"],
        [
            [
                ", ".join(c["releases"]),
                ", ".join(c["quasi_identifiers"]),
                c["subjects"],
                c["k"],
                c["k_threshold"],
                c["passed"],
            ]
            for c in report["linkage"]
        ],
    )
    counts = _table(
        ["count", "value"],
        [
            ["rows before", report["rows_before"]],
            ["rows published", report["rows_published"]],
            ["rows suppressed", report["suppressed_rows"]],
            *([k.replace("_", " "), v] for k, v in report["cells"].items()),
        ],
    )
    kept = (
        "<p>The previous version stays in the analyst store.</p>"
        if report["previous_version_kept"]
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Risk report: {name}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse;margin:0 0 1.5em}}td,th{{border:1px solid #bbb;padding:.3em .6em}}
.published{{color:#176b2c}}.blocked{{color:#a61b1b}}</style></head><body>
<h1>Risk report: {name}</h1>
<p>Run <code>{html.escape(report["run_id"])}</code>, {html.escape(report["created_at"])}.
{html.escape(report["kind"])} release for {html.escape(report["purpose"])}:
{html.escape(report["description"])}</p>
<h2 class="{status}">{html.escape(status)}</h2>{kept}
<h3>Reasons</h3><ul>{reasons}</ul>
<h3>Thresholds</h3>{thresholds}
<h3>Measures before and after</h3>{measures}
<h3>Rows</h3>{counts}
<h3>Generalisation levels</h3>{levels}
<h3>Information loss</h3>{loss}
<h3>Linkage (joint checks with attacker knowledge)</h3>{linkage}
</body></html>
"""


def write(report: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write one release's JSON and HTML report; return their paths."""
    folder = report_dir(report["name"])
    json_path, html_path = folder / "risk_report.json", folder / "risk_report.html"
    json_path.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    html_path.write_text(render_html(report), encoding="utf-8")
    return json_path, html_path


def record(reports: list[Mapping[str, Any]], created_at: datetime) -> None:
    """Append the run's reports to `risk_reports` in the audit store."""
    with stores.connect("audit") as con:
        con.execute(SCHEMA)
        for r in reports:
            before, after = r.get("before"), r.get("after")
            con.execute(
                "insert or replace into risk_reports values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    r["run_id"],
                    r["name"],
                    r["kind"],
                    r["status"],
                    json.dumps(r["reasons"]),
                    r["previous_version_kept"],
                    r["rows_before"],
                    r["rows_published"],
                    r["suppressed_rows"],
                    measure_value(before, "k"),
                    measure_value(after, "k"),
                    measure_value(before, "l_distinct"),
                    measure_value(after, "l_distinct"),
                    measure_value(before, "t_closeness"),
                    measure_value(after, "t_closeness"),
                    json.dumps(r["levels"]),
                    r["information_loss"].get("normalised"),
                    json.dumps(r, default=str),
                    created_at,
                ],
            )

"""Subject access: everything the platform holds about a student, in every zone, as a
portable zip (JSON and CSV per table) with a page that explains each table and column.

Tables are found from the catalogue (steward.catalog), never listed here: a table added
to dbt or to the policy is exported the day it exists. Analytics the policy withholds
(`requests.yaml` `student_access`) are marked as withheld with the reason; the data they
are computed from is always included. The export is written to
`$STEWARD_HOME/exports/<request_id>/` and removed by an erasure or the retention sweep.
Requests are answered as a batch (one request is a batch of one): each table is read once
for all the batch's students and its rows shared out; each export is written on its own.
"""

from __future__ import annotations

import csv
import html
import io
import shutil
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import orjson

from steward import catalog, data_policy, dbt, policy, stores
from steward.requests import policy as request_policy
from steward.requests.subject import (
    Subject,
    key_condition,
    owners,
    resolve_many,
    table_exists,
    text_pattern,
)

WITHHELD = "[withheld]"
HTML_ROWS = 25  # rows shown per table on the page; the zip has them all
MANIFEST_NAME = "manifest.json"

# What each column treatment (data.yaml) means for the student, in plain words.
TREATMENT_WORDS = {
    "keep": "copied to the pseudonymised warehouse as it is",
    "pseudonymise": "replaced by a pseudonym before it leaves the restricted zone",
    "age_band": "only your age band leaves the restricted zone",
    "outcode": "only the first half of the postcode (the outward code) leaves the restricted zone",
    "restricted": "special-category data: used only to check models and support for fairness",
    "redact": "names, contact details and identifiers are removed before it leaves the restricted zone",
    "drop": "never leaves the restricted zone",
}
LINEAGE_WORDS = {
    "_source_file": "the file this record was loaded from",
    "_file_hash": "a fingerprint of that file's content",
    "_line": "the line of that file",
    "_loaded_at": "when the record was loaded",
}


@dataclass
class Found:
    table: catalog.Table
    columns: list[str]
    rows: list[dict[str, Any]]

    @property
    def label(self) -> str:
        return f"{self.table.store}.{self.table.name}"


def export_dir() -> Path:
    path = stores.home() / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def collect(
    student_ids: list[str],
) -> dict[str, tuple[Subject, list[Found], list[dict[str, Any]]]]:
    """Per student: who they are, every row about them per catalogue table that holds
    any, and their predictions with explanations."""
    tables = catalog.subject_tables()
    with stores.connect("identified", read_only=True) as con:
        subjects = list(resolve_many(con, student_ids).values())
        found = _rows(con, "identified", subjects, tables)
    explanations: list[list[dict[str, Any]]] = [[] for _ in subjects]
    scored = [s for s in subjects if s.pseudonym]
    if scored and stores.store_path("warehouse").exists():
        with stores.connect("warehouse", read_only=True) as con:
            for position, rows in enumerate(_rows(con, "warehouse", subjects, tables)):
                found[position] += rows
            if table_exists(con, "scoring.predictions"):
                # imported here: the model package pulls in scikit-learn (seconds to
                # import), which a request for a student never scored does not need
                from steward.model.score import student_explanations

                for position, subject in enumerate(subjects):
                    if subject.pseudonym:
                        explanations[position] = _withhold(
                            "scoring.predictions", student_explanations(con, subject.pseudonym)
                        )
    return {s.student_id: (s, f, e) for s, f, e in zip(subjects, found, explanations, strict=True)}


def _rows(
    con: duckdb.DuckDBPyConnection, store: str, subjects: list[Subject], tables: list[catalog.Table]
) -> list[list[Found]]:
    """Per student (in the order of `subjects`), their rows of each of the store's tables:
    a keyed table read once for all of them, a table mentioning them in text once each."""
    found: list[list[Found]] = [[] for _ in subjects]
    present = set(catalog.store_tables(con))
    for table in tables:
        if table.store != store or table.name not in present:
            continue
        if table.key_kind:
            condition = key_condition(table, subjects)
            if condition is None:
                continue
            queries = [(condition, None)]
        else:
            where = f"regexp_matches({table.subject_text}, ?)"
            queries = [((where, [text_pattern(s)]), p) for p, s in enumerate(subjects)]
        named = owners(table, subjects) if table.key_kind else {}
        for (where, params), position in queries:
            # in the table's order, as a scan for one student gives them
            result = con.execute(f"select * from {table.name} where {where} order by rowid", params)
            columns = [d[0] for d in result.description]
            json_columns = {d[0] for d in result.description if str(d[1]).upper() == "JSON"}
            rows: list[list[dict[str, Any]]] = [[] for _ in subjects]
            for values in result.fetchall():
                row = {
                    c: orjson.loads(v) if c in json_columns and isinstance(v, str) else v
                    for c, v in zip(columns, values, strict=True)
                }
                for owner in named[row[table.subject_key]] if position is None else [position]:
                    rows[owner].append(row)
            for owner, held in enumerate(rows):
                if held:
                    found[owner].append(Found(table, columns, _withhold(table.name, held)))
    return found


def _withhold(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    hidden = request_policy.load().withheld.get(table, {}).get("columns", [])
    return [{c: WITHHELD if c in hidden else v for c, v in row.items()} for row in rows]


def _plain(value: Any) -> Any:
    """A value as JSON can carry it."""
    if value is None or isinstance(value, str | int | float | bool):
        return value  # most values: checked first, as every cell of an export comes here
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict | list):
        return value
    return str(value)


def _csv(found: Found) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(found.columns)
    for row in found.rows:
        writer.writerow(
            [
                orjson.dumps(v, default=_plain).decode()
                if isinstance(v, dict | list)
                else _plain(v)
                for v in (row[c] for c in found.columns)
            ]
        )
    return out.getvalue()


def _manifest() -> dict[str, Any]:
    if not dbt.MANIFEST.exists():
        dbt.parse()
    return orjson.loads(dbt.MANIFEST.read_bytes())


def _descriptions(manifest: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    """`store.schema.table` -> (what the table is, column -> what it means), from the dbt
    manifest (models and sources) and, for raw columns, from the column policy."""
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            name = f"warehouse.{node['schema']}.{node.get('alias') or node['name']}"
            columns = {c: v.get("description") or "" for c, v in node["columns"].items()}
            out[name] = (node.get("description") or "", columns)
    for node in manifest["sources"].values():
        name = f"identified.{node['schema']}.{node['name']}"
        columns = {c: v.get("description") or "" for c, v in node["columns"].items()}
        out[name] = (node.get("description") or "", columns)
    declared = {f"raw.{t}": e for t, e in data_policy.tables().items()}
    declared.update(data_policy.derived_tables())
    for name, entry in declared.items():
        description, columns = out.get(f"identified.{name}", ("", {}))
        for column, rule in entry["columns"].items():
            if not columns.get(column):
                uses = ", ".join(p.replace("_", " ") for p in rule.get("purposes", []))
                words = TREATMENT_WORDS[rule["treatment"]]
                columns[column] = f"{words[0].upper()}{words[1:]}" + (
                    f"; used for {uses}." if uses else "."
                )
        out[f"identified.{name}"] = (description, columns)
    return out


def export_many(
    requests: list[tuple[str, str]], out: Path | None = None
) -> dict[str, dict[str, Any] | Exception]:
    """Write each (request id, student id)'s access export; return per request id the
    counts (rows per table, no values) or why it was refused or failed."""
    collected = collect(sorted({student_id for _, student_id in requests}))
    manifest = _manifest()
    results: dict[str, dict[str, Any] | Exception] = {}
    for request_id, student_id in requests:
        try:
            results[request_id] = _export(request_id, *collected[student_id], manifest, out)
        except Exception as error:  # the others are still written; this one stays open
            results[request_id] = error
    return results


def _export(
    request_id: str,
    subject: Subject,
    found: list[Found],
    explanations: list[dict[str, Any]],
    manifest: dict[str, Any],
    out: Path | None,
) -> dict[str, Any]:
    if not found:
        raise request_policy.RequestRefused("no records are held under this student id")
    folder = (export_dir() / request_id).resolve()
    if folder.parent != export_dir().resolve():  # request ids are validated; belt and braces
        raise request_policy.RequestRefused("the request id is not usable as a folder name")
    created_at = datetime.now(UTC)
    page = render_html(request_id, subject, found, explanations, manifest, created_at)
    summary = {
        "request_id": request_id,
        "student_id": subject.student_id,
        "created_at": created_at.isoformat(),
        "tables": {f.label: len(f.rows) for f in found},
        "withheld": {
            t: w
            for t, w in request_policy.load().withheld.items()
            if any(f.table.name == t for f in found)
        },
    }
    if folder.exists():
        shutil.rmtree(folder)  # a re-run of the same request replaces its export
    folder.mkdir(parents=True)
    archive = folder / f"access-{request_id}.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("index.html", page)
        zf.writestr(MANIFEST_NAME, orjson.dumps(summary, option=orjson.OPT_INDENT_2))
        for f in found:
            zf.writestr(
                f"{f.table.store}/{f.table.name}.json",
                orjson.dumps(f.rows, default=_plain, option=orjson.OPT_INDENT_2),
            )
            zf.writestr(f"{f.table.store}/{f.table.name}.csv", _csv(f))
    (folder / "index.html").write_text(page, encoding="utf-8")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(archive, out / archive.name)
        shutil.copy(folder / "index.html", out / f"access-{request_id}.html")
    return {
        "tables": {f.label: {"rows_exported": len(f.rows)} for f in found},
        "export": str(archive.relative_to(stores.home())),
    }


def exported_student(folder: Path) -> str | None:
    """The student id an export folder was made for (read from its zip), for erasure."""
    for archive in folder.glob("access-*.zip"):
        try:
            with zipfile.ZipFile(archive) as zf:
                return orjson.loads(zf.read(MANIFEST_NAME))["student_id"]
        except (zipfile.BadZipFile, KeyError, orjson.JSONDecodeError):
            continue
    return None


# --- the page -------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = orjson.dumps(value, default=_plain).decode()
    return html.escape(str(_plain(value)))


def _table_html(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _explained(explanations: list[dict], features: dict[str, str]) -> str:
    if not explanations:
        return ""
    items = []
    for e in explanations:
        reasons = "".join(
            f"<li><b>{html.escape(t['feature'].replace('_', ' '))}</b> = {_cell(t['value'])}: "
            f"{'raised' if t['contribution'] > 0 else 'lowered'} the estimate"
            f"{' (' + html.escape(features[t['feature']]) + ')' if features.get(t['feature']) else ''}"
            "</li>"
            for t in e["top_features"]
        )
        items.append(
            f"<h3>Module {_cell(e['module_instance_id'])}, week {_cell(e['week_number'])}</h3>"
            f"<p>Model {_cell(e['model_version'])}, scored {_cell(e['scored_at'])}. "
            f"Score: {_cell(e['score'])}; risk band: {_cell(e['risk_band'])}. "
            f"What weighed most:</p><ul>{reasons}</ul>"
        )
    return (
        "<h2 id='predictions'>Your at-risk predictions explained</h2>"
        "<p>A model estimates, from your engagement so far, how likely a student in your "
        "position is to fail or withdraw from a module, so that your personal tutor can offer "
        "support. It never decides anything about you.</p>" + "".join(items)
    )


def render_html(
    request_id: str,
    subject: Subject,
    found: list[Found],
    explanations: list[dict],
    manifest: dict[str, Any],
    created_at: datetime,
) -> str:
    described = _descriptions(manifest)
    categories = data_policy.categories()
    withheld = request_policy.load().withheld
    _, feature_words = described.get("warehouse.marts.fct_student_week_features", ("", {}))
    contents = _table_html(
        ["table", "what it is", "rows"],
        [[f.label, categories[f.table.category]["description"], len(f.rows)] for f in found],
    )
    sections = []
    for f in found:
        description, columns = described.get(f.label, ("", {}))
        hidden = withheld.get(f.table.name, {})
        meanings = [
            [
                c,
                (f"Withheld: {hidden['reason']}" if c in hidden.get("columns", []) else "")
                or columns.get(c)
                or LINEAGE_WORDS.get(c)
                or "(no description recorded)",
            ]
            for c in f.columns
        ]
        shown = [[row[c] for c in f.columns] for row in f.rows[:HTML_ROWS]]
        more = (
            f"<p>{len(f.rows) - HTML_ROWS:,} more rows are in the zip file "
            f"({html.escape(f.table.store)}/{html.escape(f.table.name)}.json and .csv).</p>"
            if len(f.rows) > HTML_ROWS
            else ""
        )
        sections.append(
            f"<h2 id='{html.escape(f.label)}'>{html.escape(f.label)}</h2>"
            f"<p>{html.escape(categories[f.table.category]['description'])}. "
            f"{html.escape(description)}</p>"
            f"<h3>What each column means</h3>{_table_html(['column', 'meaning'], meanings)}"
            f"<h3>Your rows ({len(f.rows):,})</h3>{_table_html(f.columns, shown)}{more}"
        )
    reasons = "".join(
        f"<li><b>{html.escape(t)}</b> ({html.escape(', '.join(w['columns']))}): "
        f"{html.escape(w['reason'])}</li>"
        for t, w in withheld.items()
        if any(f.table.name == t for f in found)
    )
    contact = policy.load("access").get("requests", {})
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Your data: request {html.escape(request_id)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}
table{{border-collapse:collapse;margin:0 0 1.5em}}td,th{{border:1px solid #bbb;padding:.3em .6em;
vertical-align:top}}</style></head><body>
<h1>The data we hold about you</h1>
<p>Student {html.escape(subject.student_id)}; subject access request
<code>{html.escape(request_id)}</code>, prepared {html.escape(created_at.isoformat())}. The zip
file beside this page holds every row below in JSON and CSV, one file per table.</p>
<p>The platform keeps your records in a restricted zone under your student id, and a
pseudonymised copy for analysis under a pseudonym ({html.escape(subject.pseudonym or "none")})
instead of your name or id. Releases for institutional research hold no data that identifies
you: they are anonymised or aggregated and checked by a release gate, so nothing from them
is listed here.</p>
<h2>Contents</h2>{contents}
<h2>Withheld</h2><ul>{reasons or "<li>Nothing is withheld from this export.</li>"}</ul>
{_explained(explanations, feature_words)}
{"".join(sections)}
<h2>Your rights</h2>
<p>You may ask for anything here to be corrected, or erased (marks, grades and final results
are kept as the statutory academic record). {html.escape(contact.get("channel", ""))}
Answer due: {html.escape(contact.get("deadline", ""))}.</p>
</body></html>
"""

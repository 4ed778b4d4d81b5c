"""The transparency report: what the platform holds about students and why, who may read
it, how long it is kept, how its algorithms work and are validated, and how to make a
request.

Generated, never written by hand, from the policy files (`include/policies/`), the dbt
docs (model and column descriptions in the manifest) and the current model card, so it
cannot drift from what runs. One outline is rendered as Markdown and as HTML and written
to `$STEWARD_HOME/reports/transparency.{md,html}`. It holds no personal data: names of
tables, columns and roles, policy values, and the model's aggregate validation measures.
The model card's per-group fairness rows stay out (a group can be a handful of
students); the report gives each attribute's gap and how many groups were judged.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from steward import access, catalog, contracts, data_policy, dbt, policy, stores

TITLE = "Transparency report: learning analytics"
# The source systems behind `data_policy.SOURCE_OF`, as a reader knows them.
SYSTEMS = {
    "sis": "Student information system (Jisc UDD extracts)",
    "vle": "Virtual learning environment (xAPI activity statements)",
    "timetable": "Timetabling and attendance capture",
    "library": "Library management system",
    "consent": "Consent records (student portal)",
    "notes": "Tutors' case notes",
    "requests": "Data subject requests",
}
TREATMENT_HEADINGS = {
    "keep": "copied",
    "pseudonymise": "pseudonymised",
    "age_band": "generalised",
    "outcode": "generalised",
    "restricted": "restricted (fairness monitoring only)",
    "redact": "personal data removed from the text",
    "drop": "never leaves the identified zone",
}
# What `keep` saves from an anonymised row (data.yaml, `retention`).
KEPT = {
    "statutory": "the statutory columns (marks, grades, outcomes)",
    "subject_key": "the student's key, so the kept record stays theirs",
}
REQUESTS = {
    "access": "A copy of everything held about you in every zone (records, derived "
    "metrics, predictions with their explanations, interventions, consent history), as "
    "files you can reuse and a page that explains each metric.",
    "rectification": "A correction to a wrong value: recorded against the source value, "
    "applied in the warehouse on the next run and kept in the audit trail.",
    "erasure": "Your personal records deleted or anonymised in every zone and in the "
    "extract files, with a completion record that holds no personal data.",
}


@dataclass
class Outline:
    """A document as blocks: ("h", level, text), ("p", text), ("ul", items) or
    ("table", headers, rows). Text may hold `code` spans."""

    blocks: list[tuple] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", level, text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", " ".join(text.split())))

    def ul(self, items: list[str]) -> None:
        self.blocks.append(("ul", [" ".join(str(i).split()) for i in items]))

    def table(self, headers: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(("table", headers, [[_text(v) for v in row] for row in rows]))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return " ".join(str(value).split())


def _codes(names: Any) -> str:
    return ", ".join(f"`{n}`" for n in names) or "-"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def render_markdown(outline: Outline) -> str:
    lines: list[str] = []
    for block in outline.blocks:
        if block[0] == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif block[0] == "p":
            lines += [block[1], ""]
        elif block[0] == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        else:
            _, headers, rows = block
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(v.replace("|", "\\|") for v in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def render_html(outline: Outline) -> str:
    contents = [b for b in outline.blocks if b[0] == "h" and b[1] == 2]
    toc = "".join(f'<li><a href="#{_slug(b[2])}">{_inline(b[2])}</a></li>' for b in contents)
    parts: list[str] = []
    for block in outline.blocks:
        if block[0] == "h":
            level, text = block[1], block[2]
            parts.append(f'<h{level} id="{_slug(text)}">{_inline(text)}</h{level}>')
            if level == 1:
                continue
        elif block[0] == "p":
            parts.append(f"<p>{_inline(block[1])}</p>")
        elif block[0] == "ul":
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in block[1]) + "</ul>")
        else:
            _, headers, rows = block
            head = "".join(f"<th>{_inline(h)}</th>" for h in headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{_inline(v)}</td>" for v in row) + "</tr>" for row in rows
            )
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    first_section = next(i for i, p in enumerate(parts) if p.startswith("<h2"))
    parts.insert(first_section, f"<nav><h2>Contents</h2><ol>{toc}</ol></nav>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(TITLE)}</title>
<style>body{{font-family:sans-serif;margin:2em auto;max-width:70em;line-height:1.45}}
table{{border-collapse:collapse;margin:0 0 1.5em}}td,th{{border:1px solid #bbb;padding:.3em .6em;
vertical-align:top;text-align:left}}code{{background:#f3f3f3;padding:0 .2em}}</style></head><body>
{chr(10).join(parts)}
</body></html>
"""


def policy_version(folder: Path) -> str:
    """A digest of every policy file: changes when any policy value changes."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def current_model() -> dict[str, Any]:
    """The model in use (its card) and how many candidates the gate refused; no model while
    the warehouse or its registry does not exist."""
    none = {"card": None, "refused": 0, "version": None}
    if not stores.store_path("warehouse").exists():
        return none
    from steward.model import registry

    with stores.connect("warehouse", read_only=True) as con:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = 'model_registry'",
            [registry.SCHEMA],
        ).fetchone()[0]
        if not exists:
            return none
        version = registry.current_version(con)
        refused = con.execute(
            f"select count(*) from {registry.SCHEMA}.model_registry where status = 'refused'"
        ).fetchone()[0]
    card = None
    if version is not None:
        path = registry.models_dir() / version / "card.json"
        if not path.exists():
            raise FileNotFoundError(
                f"{path}: the card of the current model {version} is missing; retrain or "
                "restore it from backup before publishing the transparency report"
            )
        card = json.loads(path.read_text(encoding="utf-8"))
    return {"card": card, "refused": refused, "version": version}


class _Inputs:
    """Everything the report is made from, read once."""

    def __init__(self, folder: Path, manifest: Path, model: dict[str, Any]):
        self.folder = folder
        # every table in every store with its category, as the sweep and requests find them
        self.catalog = catalog.tables(manifest)
        self.purposes = policy.read("purposes", folder)["purposes"]
        data = policy.read("data", folder)
        self.categories: dict[str, Any] = data["categories"]
        self.tables: dict[str, Any] = data["tables"]
        self.releases = policy.read("releases", folder)
        self.model_policy = policy.read("model", folder)
        self.pii = policy.read("pii", folder)
        self.access = access.access_policy(folder)
        self.retention: dict[str, Any] = data.get("retention") or {}
        self.request_policy = (
            policy.read("requests", folder) if (folder / "requests.yaml").exists() else {}
        )
        self.manifest = json.loads(manifest.read_text())
        self.model = model
        self.version = policy_version(folder)

    def models(self, folder: str = "") -> list[dict[str, Any]]:
        """Our dbt models, all or those of one folder (`marts`), by name."""
        prefix = f"models/{folder}/" if folder else "models/"
        return sorted(
            (
                n
                for n in self.manifest["nodes"].values()
                if n["resource_type"] == "model" and n["original_file_path"].startswith(prefix)
            ),
            key=lambda n: n["name"],
        )


def _intro(o: Outline, i: _Inputs, generated_at: datetime) -> None:
    o.h(1, TITLE)
    o.p(
        "What the learning analytics platform holds about students and why, who may read "
        "it, how long it is kept, how its algorithms work and how they are checked, and how "
        "to ask for your own data. This report is generated from the policy files the "
        "platform runs on (`include/policies/`), the documentation of its warehouse models "
        "and the card of the model in use, so it describes what actually runs. It contains "
        "no personal data."
    )
    model = i.model["version"] or "none in use"
    o.p(
        f"Policy version `{i.version}`; at-risk model `{model}`; "
        f"generated {generated_at:%Y-%m-%d %H:%M} UTC."
    )


def _sources(o: Outline, i: _Inputs) -> None:
    o.h(2, "Data sources")
    o.p(
        "Extracts from the institution's systems land in the identified zone "
        "(`identified.duckdb`), which only the pipeline and data stewards can read. Every "
        "record is checked against a declared contract; what fails is quarantined, not "
        "dropped. Only the columns a declared purpose needs leave that zone, pseudonymised "
        "or generalised, for the warehouse (`warehouse.duckdb`); analysts see only releases "
        "that pass a re-identification risk gate (`analyst.duckdb`)."
    )
    by_source: dict[str, list[str]] = defaultdict(list)
    for table in i.tables:
        by_source[data_policy.SOURCE_OF.get(table, "other")].append(table)
    o.table(
        ["source system", "tables", "data categories"],
        [
            [
                f"{SYSTEMS.get(source, source)} (`{source}`)",
                _codes(names),
                _codes(dict.fromkeys(i.tables[t]["category"] for t in names)),
            ]
            for source, names in by_source.items()
        ],
    )
    o.h(3, "Data categories")
    held: dict[str, list[str]] = defaultdict(list)
    for table in i.catalog:
        held[table.category].append(f"{table.store} `{table.name}`")
    for folder, category in (i.retention.get("files") or {}).items():
        held[category].append(f"files in `$STEWARD_HOME/{folder}/`")
    o.table(
        ["category", "what it is", "held in"],
        [
            [f"`{name}`", entry["description"], "; ".join(held.get(name, [])) or "-"]
            for name, entry in i.categories.items()
        ],
    )
    o.h(3, "What leaves the identified zone")
    o.p(
        "Per extract table, how each column is treated on its way to the warehouse. "
        "Pseudonymised: replaced by a keyed pseudonym. Generalised: a date of birth becomes "
        "an age band, a postcode its outward code. Restricted: special-category data "
        "(ethnicity, disability, religion, care leaver status) is used only to check "
        "fairness and is never a model input or released."
    )
    headings = list(dict.fromkeys(TREATMENT_HEADINGS.values()))
    rows = []
    for name, table in i.tables.items():
        by_heading: dict[str, list[str]] = defaultdict(list)
        for column, rule in table["columns"].items():
            by_heading[TREATMENT_HEADINGS[rule["treatment"]]].append(column)
        rows.append([f"`{name}`", *(_codes(by_heading.get(h, [])) for h in headings)])
    o.table(["table", *headings], rows)


def _purposes(o: Outline, i: _Inputs) -> None:
    o.h(2, "Purposes and lawful bases")
    o.p(
        "Data is processed only for these purposes; a column no purpose needs never leaves "
        "the identified zone. Purposes that need consent act on a student only while their "
        "latest consent for that purpose is a grant."
    )
    o.table(
        ["purpose", "what for", "lawful basis", "accountable owner", "needs consent"],
        [
            [
                f"`{p['name']}`",
                p["description"],
                p["lawful_basis"],
                p["owner_role"],
                p["requires_consent"],
            ]
            for p in i.purposes
        ],
    )
    uses: dict[str, dict[str, None]] = defaultdict(dict)
    special: dict[str, set[str]] = defaultdict(set)
    for table in i.tables.values():
        for column, rule in table["columns"].items():
            for purpose in rule.get("purposes", []):
                uses[purpose][table["category"]] = None
                if rule["sensitivity"] == "special_category":
                    special[purpose].add(column)
    o.h(3, "Data each purpose uses")
    o.table(
        ["purpose", "data categories", "special-category data"],
        [
            [
                f"`{p['name']}`",
                _codes(uses[p["name"]]),
                _codes(sorted(special[p["name"]])) if special[p["name"]] else "none",
            ]
            for p in i.purposes
        ],
    )


def _metrics(o: Outline, i: _Inputs) -> None:
    o.h(2, "Metrics and how to read them")
    o.p(
        "The warehouse's marts hold the metrics the platform computes. Rows are keyed by a "
        "pseudonym, never a name. The meanings below are the warehouse's own documentation."
    )
    for node in i.models("marts"):
        o.h(3, f"`{node['name']}`")
        o.p(node.get("description") or "No description yet.")
        o.table(
            ["column", "meaning"],
            [[f"`{c['name']}`", c.get("description") or "-"] for c in node["columns"].values()],
        )
    o.h(3, "Reading the released tables")
    o.ul(
        [
            "Count tables: an empty value (NULL) is a count withheld because it was below the "
            "smallest publishable count, or because it could be worked out from the totals; "
            "0 means nobody. The row and column labelled `total` are the margins.",
            "One-row-per-student tables: a value `*` has been generalised away entirely to "
            "keep every student indistinguishable from enough others; a banded value "
            "(such as an age band) stands for every value in the band.",
        ]
    )
    bands = i.model_policy["risk_bands"]
    lower = 0.0
    described = []
    for band in bands:
        upper = band["below"]
        span = f"{lower:.2f} to {upper:.2f}" if upper is not None else f"{lower:.2f} and above"
        described.append(f"`{band['name']}`: score {span}")
        lower = upper if upper is not None else lower
    o.h(3, "Risk scores")
    o.p(
        "A risk score is the model's estimated probability (0 to 1) that a student will "
        "fail or withdraw from a module. Scores fall into bands: "
        + "; ".join(described)
        + f". Bands {_codes(i.model_policy['flag_bands'])} flag a student for a conversation "
        "with a tutor; a score never decides anything by itself."
    )


def _role_reads(role: dict[str, Any], releases: list[str]) -> str:
    grants = []
    for store, grant in (role.get("reads") or {}).items():
        if store == "analyst":
            names = access.readable_releases(role, releases)
            grants.append(f"`{store}.duckdb` releases {_codes(names)}")
        else:
            what = [*(f"{s}.*" for s in grant.get("schemas", [])), *grant.get("tables", [])]
            grants.append(f"`{store}.duckdb` {_codes(what)}")
    return "; ".join(grants) or "no store"


def _access(o: Outline, i: _Inputs) -> None:
    o.h(2, "Who has access to what")
    releases = list(i.releases["releases"])
    roles = i.access["roles"]
    o.p(
        "Each role is given only the stores and tables below; a store not listed is closed "
        "to it. Analysts open the analyst store read-only with a connection that cannot "
        "reach any other file."
    )
    o.table(
        ["role", "who", "may read"],
        [
            [f"`{name}`", role["description"], _role_reads(role, releases)]
            for name, role in roles.items()
        ],
    )
    o.h(3, "What analysts receive")
    defaults = i.releases["defaults"]["thresholds"]
    exposures = {e["name"]: e for e in i.manifest.get("exposures", {}).values()}
    rows = []
    for name, release in i.releases["releases"].items():
        limits = {**defaults, **(release.get("thresholds") or {})}
        if release["kind"] == "microdata":
            columns = [*release["quasi_identifiers"], *release["sensitive"]]
            protection = (
                f"at least {limits['k']} students alike on {_codes(release['quasi_identifiers'])}; "
                f"l = {limits['l']} ({limits.get('l_measure', 'distinct')}), t = {limits['t']}; "
                f"at most {limits['suppression']:.0%} of rows withheld"
            )
        else:
            columns = [release["rows"], release["columns"], release["count"]]
            protection = f"counts below {limits['k']} withheld, with secondary suppression"
        built_from = [
            n.split(".")[-1] for n in exposures.get(name, {}).get("depends_on", {}).get("nodes", [])
        ]
        readers = [
            r for r, role in roles.items() if name in access.readable_releases(role, releases)
        ]
        rows.append(
            [
                f"`{name}`",
                f"{release['kind']}, for `{release['purpose']}`",
                release["description"],
                _codes(columns),
                _codes(built_from) if built_from else "not in the dbt docs yet",
                protection,
                _codes(readers),
            ]
        )
    o.table(
        ["release", "kind", "holds", "columns", "built from", "protection", "readable by"], rows
    )


def _period(text: str) -> str:
    """`P6Y` -> "6 years"; a period that is not an ISO-8601 duration is shown as written."""
    from steward.retention.policy import Period

    try:
        period = Period.parse(text)
    except ValueError:
        return str(text)
    parts = [(period.years, "year"), (period.months, "month"), (period.days, "day")]
    return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)


def _retention(o: Outline, i: _Inputs) -> None:
    o.h(2, "How long data is kept")
    rules = {name: entry.get("retention") for name, entry in i.categories.items()}
    if not any(rules.values()):
        o.p(
            "No retention policy declared (no data category in `include/policies/data.yaml` "
            "has a `retention` rule): nothing is yet deleted or anonymised on a schedule."
        )
        return
    o.p(
        "Per data category, how long records are kept, the date the period runs from and "
        "what happens when it ends. Whatever the period, nothing is removed while the "
        "student is still enrolled on a running module. Statutory records (marks, grades "
        "and final outcomes) are kept even when the rest of a record goes."
    )
    anchors = i.retention.get("anchors") or {}
    rows = []
    for name, rule in rules.items():
        if not isinstance(rule, dict):
            rows.append([f"`{name}`", "no retention period declared", "-", "-"])
        elif rule.get("exempt"):
            rows.append([f"`{name}`", "kept", "-", f"not swept: {rule['exempt']}"])
        else:
            then = {"delete": "deleted", "anonymise": "anonymised"}.get(
                rule["action"], rule["action"]
            )
            if rule.get("keep"):
                then += ", keeping " + " and ".join(KEPT.get(k, f"`{k}`") for k in rule["keep"])
            anchor = anchors.get(rule["from"], {}).get("description", rule["from"])
            rows.append([f"`{name}`", _period(rule["period"]), anchor, then])
    o.table(["category", "kept for", "counted from", "then"], rows)
    approval = i.retention.get("approval") or {}
    if approval.get("required"):
        o.p("A data steward approves every sweep in the Airflow UI before it changes anything.")
    elif approval.get("when_rows_over") is not None:
        o.p(
            "A data steward approves a sweep in the Airflow UI before it changes more than "
            f"{approval['when_rows_over']} rows."
        )


def _algorithms(o: Outline, i: _Inputs) -> None:
    o.h(2, "How the algorithms work and how they are validated")
    o.h(3, "Pseudonymisation")
    o.p(
        "Student and staff identifiers are replaced by a keyed HMAC-SHA256 pseudonym before "
        "data reaches the warehouse. The key is held outside the warehouse, so the "
        "warehouse alone cannot be turned back into names. After every build the warehouse "
        "is searched for the exact identifier values of the identified zone, and the build "
        "fails on any hit."
    )
    o.h(3, "Finding personal data in free text")
    recognisers = [n for n, r in i.pii["recognizers"].items() if r.get("enabled", True)]
    o.p(
        "Free text (tutors' notes) is scanned with Microsoft Presidio and UK-specific "
        f"recognisers ({_codes(recognisers)}, plus {_codes(i.pii['presidio_predefined']['keep'])}); "
        f"findings scoring at least {i.pii['score_threshold']} are replaced by placeholders. "
        f"An allow-list of {len(i.pii['allow_list']['terms'])} institutional terms and "
        f"{len(i.pii['allow_list']['patterns'])} patterns (module codes, buildings, role "
        "titles) keeps them from being mistaken for people."
    )
    o.h(3, "The release gate")
    t = i.releases["defaults"]["thresholds"]
    attacker = i.releases["attacker_knowledge"]
    o.p(
        "Before anything reaches analysts, each release is measured for re-identification "
        f"risk: every combination of identifying columns must be shared by at least k = {t['k']} "
        f"students, each such group must hold at least l = {t['l']} well-represented outcomes, "
        f"and its outcomes must lie within t = {t['t']} of the whole release's. Columns are "
        "generalised (for example ages into wider bands) until this holds, withholding at "
        f"most {t['suppression']:.0%} of rows. Releases are also checked jointly, as if an "
        f"outsider linked them using {' '.join(attacker['description'].split()).rstrip('.')} "
        f"({_codes(attacker['columns'])}). A release that fails is not published; its "
        "previous version stays."
    )
    _model(o, i)


def _model(o: Outline, i: _Inputs) -> None:
    m = i.model_policy["model"]
    gate = i.model_policy["promotion"]
    fairness = gate["fairness"]
    o.h(3, "The at-risk model")
    o.p(f"Model `{m['name']}`, accountable owner `{m['owner_role']}`. Its purpose: {m['purpose']}")
    o.p(
        f"It is a logistic regression on weekly engagement features (weeks {m['weeks']['first']} "
        f"to {m['weeks']['last']} of a module): {_codes(m['candidate_features'])}. No "
        "special-category attribute is ever a feature. It is retrained every "
        f"{m['retrain_every_days']} days on earlier presentations of modules and validated on "
        "the latest finished one, so it is always judged on students it has not seen. "
        "Features whose link with the outcome shifts between years or modules are dropped."
    )
    o.p(
        "A newly trained model replaces the one in use only if it passes every check; "
        "otherwise it is recorded as refused, with the reasons."
    )
    o.table(
        ["check", "must be"],
        [
            [
                "ROC AUC (how well scores rank students who fail above those who pass)",
                f"at least {gate['min_roc_auc']}",
            ],
            [
                "expected calibration error (how far scores are from observed rates)",
                f"at most {gate['max_expected_calibration_error']}",
            ],
            ["unstable features used", f"at most {gate['max_unstable_features_used']}"],
            [
                "equal opportunity difference (largest gap between groups in the share of "
                f"at-risk students flagged), per {_codes(fairness['attributes'])}",
                f"at most {fairness['max_equal_opportunity_difference']} (groups of at least "
                f"{fairness['min_group_students']} students and {fairness['min_group_positives']} "
                "outcomes are judged)",
            ],
        ],
    )
    card = i.model["card"]
    o.h(3, "The model in use")
    if card is None:
        refused = i.model["refused"]
        o.p(
            "No model is in use yet: no student is scored and no intervention is opened."
            + (
                f" {refused} trained candidate(s) were refused by the checks above."
                if refused
                else ""
            )
        )
        return
    metrics = card["metrics"]
    data = card["data"]
    o.p(
        f"Version `{card['version']}`, trained {card['trained_at'][:10]} on presentations "
        f"{_text(data['train_presentations'])} and validated on {_text(data['test_presentations'])}; "
        f"verdict: {card['verdict']}."
    )
    o.table(
        ["measure (validation presentation)", "value"],
        [
            ["ROC AUC", metrics["roc_auc"]],
            ["PR AUC", metrics["pr_auc"]],
            ["Brier score", metrics["brier"]],
            ["expected calibration error", metrics["expected_calibration_error"]],
        ],
    )
    o.p(f"Features used: {_codes(card['features'])}.")
    if card["dropped_features"]:
        o.ul([f"`{f}` left out: {why}" for f, why in card["dropped_features"].items()])
    o.table(
        ["attribute", "groups judged", "equal opportunity difference", "selection rate difference"],
        [
            [
                f"`{attribute}`",
                f"{sum(g['judged'] for g in result['groups'])} of {len(result['groups'])}",
                result["equal_opportunity_difference"],
                result["selection_rate_difference"],
            ]
            for attribute, result in card["fairness"].items()
        ],
    )
    o.p("Known limits:")
    o.ul(card["known_limits"])


def _requests(o: Outline, i: _Inputs) -> None:
    o.h(2, "How to make a request")
    how = i.access["requests"]
    months = i.request_policy.get("due_within_months")
    deadline = (
        f"within {months} calendar month{'s' if months != 1 else ''} of receipt"
        if months
        else "within the statutory deadline"
    )
    o.p(
        f"{how['channel']} Requests are handled by the `{how['contact_role']}`, {deadline} "
        "(UK GDPR Art. 12(3)); the answer says why if it must take longer."
    )
    kinds = next(c for c in contracts.table("subject_requests").columns if c.name == "request_type")
    statutory = [
        f"{table}.{column}"
        for table, entry in i.tables.items()
        for column, rule in entry["columns"].items()
        if rule.get("statutory")
    ]
    rectifiable = [
        f"{table}.{column}"
        for table, columns in (i.request_policy.get("rectifiable") or {}).items()
        for column in columns
    ]
    withheld = [
        f"{table}.{column}"
        for table, rule in (
            (i.request_policy.get("student_access") or {}).get("withheld") or {}
        ).items()
        for column in rule["columns"]
    ]
    details = {
        "erasure": f" Statutory records are kept: {_codes(statutory)}.",
        "rectification": f" Corrected here: {_codes(rectifiable)}; other fields are corrected "
        "in the source system."
        if rectifiable
        else "",
        "access": f" Withheld from the copy, with the reason given in it: {_codes(withheld)}."
        if withheld
        else "",
    }
    rows = [
        [k, REQUESTS.get(k, "As the request describes.") + details.get(k, "")] for k in kinds.values
    ]
    consented = [p["name"] for p in i.purposes if p["requires_consent"]]
    rows.append(
        [
            "consent change",
            f"Give or withdraw consent for {_codes(consented)}. It takes effect on the next "
            "run: interventions stop and your data leaves consent-based releases.",
        ]
    )
    o.table(["request", "what happens"], rows)


def build(
    policy_dir: Path = policy.POLICY_DIR,
    manifest: Path | None = None,
    generated_at: datetime | None = None,
) -> tuple[str, str, dict[str, Any]]:
    """(Markdown, HTML, summary) of the report for the policy in `policy_dir`."""
    problems = access.problems(policy_dir)
    if problems:
        raise ValueError("access policy is inconsistent:\n" + "\n".join(problems))
    manifest = manifest or dbt.MANIFEST
    if not manifest.exists():
        dbt.parse()
    inputs = _Inputs(policy_dir, manifest, current_model())
    outline = Outline()
    _intro(outline, inputs, generated_at or datetime.now(UTC))
    for section in (_sources, _purposes, _metrics, _access, _retention, _algorithms, _requests):
        section(outline, inputs)
    summary = {
        "policy_version": inputs.version,
        "model_version": inputs.model["version"],
        "retention_declared": any(c.get("retention") for c in inputs.categories.values()),
        "sections": [b[2] for b in outline.blocks if b[0] == "h" and b[1] == 2],
    }
    return render_markdown(outline), render_html(outline), summary


def report_dir() -> Path:
    path = stores.home() / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def publish(
    out_dir: Path | None = None,
    policy_dir: Path = policy.POLICY_DIR,
    manifest: Path | None = None,
) -> dict[str, Any]:
    """Write `transparency.md` and `transparency.html` (each replaced in one step, so a
    reader never sees half a report); return the summary with their paths."""
    markdown, page, summary = build(policy_dir, manifest)
    folder = out_dir or report_dir()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for suffix, text in (("md", markdown), ("html", page)):
        path = folder / f"transparency.{suffix}"
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
        paths[suffix] = str(path)
    return {**summary, "paths": paths}

"""The model card, in Markdown for people and JSON for tools, written beside the model."""

from __future__ import annotations

import json
from pathlib import Path

from steward.model.gate import Verdict
from steward.model.policy import ModelPolicy
from steward.model.train import Candidate

KNOWN_LIMITS = [
    "Trained and validated on student-weeks {first}..{last} of ended presentations; scores "
    "outside that window are extrapolation.",
    "Engagement is seen only through the VLE (activity and quiz scores), attendance and "
    "library data the institution exports, and prior attainment only through entry tariff "
    "points (ranked among students with the same entry qualification) and quiz scores: "
    "students whose qualification carries no tariff (most overseas and many mature "
    "students) or whose points were not recorded are judged on engagement alone until "
    "their first quiz, so early in a presentation their scores are less sharp.",
    "Entry tariff points are ranked among every student in the warehouse with the same "
    "entry qualification, later intakes included: the rank uses no outcome, but a training "
    "row's rank can move when later students arrive, and a change in who enrols shifts "
    "every student's rank.",
    "The student_* features average the student's engagement over their modules in the "
    "same week: a student on one module, or whose other modules run on other weeks, is "
    "judged on that module alone.",
    "Module difficulty is each module's fail-or-withdraw rate in the training "
    "presentations; a module new since then gets the overall rate until it has been "
    "taught in a training presentation.",
    "Stability is judged on every ended presentation, the validation one included, so the "
    "choice of features to drop has seen that presentation's outcomes (one univariate "
    "statistic per feature, not the fitted model).",
    "Validation is on one later presentation: a change of teaching, VLE or data capture "
    "since then is not reflected until the next retraining.",
    "Fairness is assessed only for groups with at least {min_pos} positive outcomes and "
    "{min_students} students; smaller groups are listed as not assessed. Among assessed "
    "groups a true-positive-rate gap refuses the model only when it is larger than "
    "sampling noise explains (z above {min_z}, raised for the number of group pairs), so "
    "a real gap between small groups can go undetected until more presentations are seen.",
    "A score is a prompt for a human conversation, never a decision about a student; "
    "interventions reach only students who consented to them.",
]


def build(candidate: Candidate, verdict: Verdict, policy: ModelPolicy, version: str) -> dict:
    m = policy.model
    metrics = {k: v for k, v in candidate.metrics.items() if k != "reliability"}
    return {
        "name": m["name"],
        "version": version,
        "owner": m["owner_role"],
        "purpose": " ".join(m["purpose"].split()),
        "trained_at": candidate.model.trained_at.isoformat(),
        "data": {
            "source": "warehouse marts.fct_student_week_features (pseudonymised)",
            "label": policy.label,
            "weeks": [policy.first_week, policy.last_week],
            "train_presentations": candidate.train_presentations,
            "test_presentations": candidate.test_presentations,
            "rows": candidate.rows,
            "training_snapshot": candidate.snapshot,
        },
        "features": candidate.features,
        "dropped_features": candidate.dropped,
        "unstable_features_used": candidate.unstable_used,
        "special_category_attributes_used_as_features": [],
        "metrics": metrics,
        "calibration": candidate.metrics["reliability"],
        "fairness": candidate.fairness,
        "stability": [f for f in candidate.stability if f["unstable"]],
        "risk_bands": [{"name": b.name, "below": b.below} for b in policy.risk_bands],
        "flag_bands": sorted(policy.flag_bands),
        "verdict": verdict.label,
        "failures": [f.as_dict() for f in verdict.failures],
        "known_limits": [
            limit.format(
                first=policy.first_week,
                last=policy.last_week,
                min_pos=policy.fairness["min_group_positives"],
                min_students=policy.fairness["min_group_students"],
                min_z=policy.fairness["min_z"],
            )
            for limit in KNOWN_LIMITS
        ],
    }


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _gated(gap: dict | None) -> str:
    if gap is None:
        return "none beyond noise"
    return (
        f"{gap['difference']:.3f} ({gap['higher']} vs {gap['lower']}, "
        f"z {gap['z']:.1f} / {gap['z_required']:.1f})"
    )


def markdown(card: dict) -> str:
    m = card["metrics"]
    lines = [
        f"# Model card: {card['name']} {card['version']}",
        "",
        f"**Verdict:** {card['verdict']}  ",
        f"**Owner:** {card['owner']}  ",
        f"**Trained:** {card['trained_at']}",
        "",
        "## Purpose",
        card["purpose"],
        "",
        "## Data",
        f"- Source: {card['data']['source']}",
        f"- Label: `{card['data']['label']}` (fail or withdraw)",
        f"- Student-weeks {card['data']['weeks'][0]}..{card['data']['weeks'][1]}; trained on "
        f"presentations {card['data']['train_presentations']}, validated on "
        f"{card['data']['test_presentations']} ({card['data']['rows']['train']:,} / "
        f"{card['data']['rows']['test']:,} rows)",
        f"- Training snapshot: `{card['data']['training_snapshot']}`",
        "",
        "## Features",
        ", ".join(f"`{f}`" for f in card["features"]),
        "",
        "No special-category attribute (ethnicity, disability, religion, care leaver status) "
        "is a feature; they are read from the restricted schema only to measure fairness.",
        "",
        "### Dropped",
    ]
    lines += [f"- `{f}`: {why}" for f, why in card["dropped_features"].items()] or ["- none"]
    lines += [
        "",
        "## Metrics (validation presentation)",
        "| metric | value |",
        "|---|---|",
        f"| ROC AUC | {m['roc_auc']:.3f} |",
        f"| PR AUC | {m['pr_auc']:.3f} |",
        f"| Brier score | {m['brier']:.4f} |",
        f"| Expected calibration error | {m['expected_calibration_error']:.4f} |",
        f"| Positive rate | {m['positive_rate']:.3f} |",
        "",
        "ROC AUC by week: "
        + ", ".join(f"{w}: {a:.3f}" for w, a in m.get("roc_auc_by_week", {}).items()),
        "",
        "## Calibration (reliability table)",
        "| score bin | rows | mean predicted | observed |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['bin_lower']:.1f}-{r['bin_upper']:.1f} | {r['rows']:,} | "
        f"{_fmt(r['mean_predicted'])} | {_fmt(r['observed_rate'])} |"
        for r in card["calibration"]
    ]
    lines += [
        "",
        f"## Fairness (flagged = band in {card['flag_bands']}, per enrolment)",
        "| attribute | group | students | positives | TPR | FPR | selection rate | assessed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for attribute, result in card["fairness"].items():
        for g in result["groups"]:
            lines.append(
                f"| {attribute} | {g['group']} | {g['students']:,} | {g['positives']:,} | "
                f"{g['true_positive_rate']:.3f} | {g['false_positive_rate']:.3f} | "
                f"{g['selection_rate']:.3f} | "
                f"{'yes' if g['judged'] else 'not assessed (too small)'} |"
            )
    lines += [
        "",
        "Differences among assessed groups; the gated one is the largest TPR gap that sampling "
        "noise does not explain.",
        "",
        "| attribute | equal opportunity difference | gated gap (groups, z / required) "
        "| FPR difference | selection rate difference |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {a} | {_fmt(r['equal_opportunity_difference'])} | {_gated(r['equal_opportunity_gap'])} | "
        f"{_fmt(r['false_positive_rate_difference'])} | {_fmt(r['selection_rate_difference'])} |"
        for a, r in card["fairness"].items()
    ]
    lines += ["", "## Promotion gate"]
    lines += [f"- MISSED {f['message']}" for f in card["failures"]] or [
        "- every threshold in include/policies/model.yaml met"
    ]
    lines += ["", "## Known limits"] + [f"- {limit}" for limit in card["known_limits"]]
    return "\n".join(lines) + "\n"


def write(card: dict, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / "card.json"
    md_path = folder / "card.md"
    json_path.write_text(json.dumps(card, indent=2, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(card), encoding="utf-8")
    return md_path, json_path

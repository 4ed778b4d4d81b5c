"""`steward model train|score|card`: wired into `steward.cli` with

from steward.model.cli import add_model_parser
add_model_parser(sub)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_train(args: argparse.Namespace) -> int:
    from steward.model import run

    summary = run.train(force=args.force)
    print(json.dumps(summary, indent=2, default=str))
    # A refused candidate is a normal outcome (the current model keeps scoring), not an error.
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from steward.model import run

    summary = run.score_students()
    summary.update(run.create_interventions(summary["run_id"]))
    summary.update(run.record_intervention_outcomes())
    print(json.dumps(summary, indent=2, default=str))
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    from steward.model import registry, run

    version = args.version or run.current()
    if version is None:
        raise RuntimeError("no promoted model yet; give --version or run `steward model train`")
    if version in {".", ".."} or Path(version).name != version:
        raise ValueError(f"{version!r} is not a model version (one folder name under models/)")
    path = registry.models_dir() / version / ("card.json" if args.json else "card.md")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no model card for version {version}")
    print(path.read_text(encoding="utf-8"), end="")
    return 0


def add_model_parser(sub: argparse._SubParsersAction) -> None:
    model = sub.add_parser("model", help="train, gate and score the at-risk model")
    actions = model.add_subparsers(dest="action", required=True, metavar="ACTION")

    train = actions.add_parser(
        "train", help="train a candidate when due (or --force), gate it, record it"
    )
    train.add_argument("--force", action="store_true", help="train even if not due")
    train.set_defaults(func=cmd_train)

    score = actions.add_parser(
        "score", help="score enrolled students; interventions for consenting students only"
    )
    score.set_defaults(func=cmd_score)

    card = actions.add_parser("card", help="print a model card (default: the current model)")
    card.add_argument("--version", default=None)
    card.add_argument("--json", action="store_true", help="the JSON card instead of Markdown")
    card.set_defaults(func=cmd_card)

"""Benchmark the at-risk model: accuracy against the generator's oracle, OULAD temporal
validation, and training and scoring time at 50,000 students.

    .venv/bin/python benchmarks/bench_model.py [--generate 5000] [--keep DIR] [--students 50000]
    .venv/bin/python benchmarks/bench_model.py --home HOME --institution DIR [--students 50000]

With no arguments it generates an institution of `--generate` students into a temporary
folder and builds its stores (ingest, pseudonymise, dbt build: the slow part, tens of
minutes at 5,000 students on a shared machine); `--keep DIR` builds there, or reuses what
an earlier run built there. `--home`/`--institution` point at a STEWARD_HOME built from the
generated folder `DIR` instead.

1. Oracle: the candidate (print_credits dropped, trained on the earlier presentation)
   scored on the validation presentation's student-weeks 0..12, beside the AUC of the
   generator's `true_risk` on the same rows (`truth/student_outcomes.csv`, joined to
   pseudonyms through `identity.identity_map`), and the promotion gate's verdict with
   each attribute's gated equal-opportunity gap. Goals: AUC within 0.03 of the oracle,
   ECE at most 0.05.
2. OULAD (`../shared/data/oulad`): train on the 2013 presentations, validate on 2014,
   with registration data (registration day, prior attempts, studied credits) and
   assessment data up to day 60 (submissions, lateness, scores of assessments due by
   then); never the unregistration date. Moodle's published figure is 0.73.
3. Scale: the built labelled rows resampled by enrolment (new pseudonyms, same
   features, labels and groups) to `--students` students; reading them back from a
   DuckDB mart of that size is timed, then the whole candidate training (stability
   check, fit, validation, fairness); and scoring (score, band, feature vector, hash,
   top-3 explanation) of the current week of that many students, and writing those
   predictions. Goals: training < 60 s, scoring < 5 s.

Prints a table and writes benchmarks/results/model.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mib, save, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OULAD = (ROOT / ".." / "shared" / "data" / "oulad").resolve()
OULAD_DAY = 60
KEY = "benchmark-only-key-0123456789abcdefghijkl"


def build(work: Path, students: int) -> tuple[Path, Path]:
    """A generated institution under `work` and its built stores (reused when there):
    (STEWARD_HOME, generated folder)."""
    home, generated = work / "home", work / "institution"
    os.environ["STEWARD_HOME"] = str(home)
    os.environ.setdefault("STEWARD_PSEUDONYM_KEY", KEY)
    if not (home / "warehouse.duckdb").exists():
        from steward.pipeline import build_warehouse
        from steward.sources.generator import generate

        generate(generated, students, seed=5)
        build_warehouse(generated)
    return home, generated


def oracle(home: Path, institution: Path) -> dict:
    from steward.model import fairness, features, gate, train
    from steward.model import policy as model_policy

    policy = model_policy.load()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        frame = features.labelled(con, policy)
        groups = fairness.load_groups(con, policy.fairness["attributes"])
    with duckdb.connect(str(home / "identified.duckdb"), read_only=True) as con:
        identities = con.execute(
            "select source_id, pseudonym from identity.identity_map where subject_type = 'student'"
        ).df()
    truth = pd.read_csv(institution / "truth" / "student_outcomes.csv", dtype=str)
    truth = truth.merge(identities, left_on="student_id", right_on="source_id")
    truth["true_risk"] = truth["true_risk"].astype(float)

    candidate = train.train_candidate(frame, groups, policy)
    verdict = gate.decide(candidate, policy)
    test = frame[frame["academic_year"].isin(candidate.test_presentations)]
    test = test.merge(
        truth[["pseudonym", "mod_instance_id", "true_risk"]],
        left_on=["student_pseudonym", "module_instance_id"],
        right_on=["pseudonym", "mod_instance_id"],
        how="left",
    )
    if test["true_risk"].isna().any():
        raise ValueError(f"{institution}: truth rows missing for some validation enrolments")
    oracle_auc = float(roc_auc_score(test["label"], test["true_risk"]))
    last = test["week_number"] == policy.last_week
    auc = candidate.metrics["roc_auc"]
    return {
        "validation_rows": int(len(test)),
        "model_auc": round(auc, 4),
        "oracle_auc": round(oracle_auc, 4),
        "auc_gap": round(oracle_auc - auc, 4),
        "model_auc_last_week": candidate.metrics["roc_auc_by_week"][str(policy.last_week)],
        "oracle_auc_last_week": round(
            float(roc_auc_score(test.loc[last, "label"], test.loc[last, "true_risk"])), 4
        ),
        "ece": round(candidate.metrics["expected_calibration_error"], 4),
        "brier": round(candidate.metrics["brier"], 4),
        "dropped": sorted(candidate.dropped),
        "students": int(frame["student_pseudonym"].nunique()),
        "verdict": verdict.label,
        "failures": [f.message() for f in verdict.failures],
        "fairness": {
            attribute: {
                "equal_opportunity_difference": result["equal_opportunity_difference"],
                "gated_gap": result["equal_opportunity_gap"],
                "not_assessed": [g["group"] for g in result["groups"] if not g["judged"]],
            }
            for attribute, result in candidate.fairness.items()
        },
    }


def oulad_features() -> pd.DataFrame:
    con = duckdb.connect()
    read = f"read_csv('{OULAD}/{{}}', nullstr = ['?', ''], header = true)"
    return con.execute(
        f"""
        with info as (select * from {read.format("studentInfo.csv")}),
        registration as (select * from {read.format("studentRegistration.csv")}),
        assessments as (select * from {read.format("assessments.csv")}),
        submitted as (select * from {read.format("studentAssessment.csv")}),
        due as (
            select * from assessments
            where date is not null and date <= {OULAD_DAY} and assessment_type <> 'Exam'
        ),
        per_student as (
            select i.id_student, i.code_module, i.code_presentation,
                   count(d.id_assessment) as assessments_due,
                   count(s.id_assessment) filter (where s.date_submitted <= {OULAD_DAY})
                       as submitted,
                   count(s.id_assessment) filter (
                       where s.date_submitted <= {OULAD_DAY} and s.date_submitted > d.date
                   ) as late,
                   avg(s.score) filter (where s.date_submitted <= {OULAD_DAY}) as mean_score,
                   sum(coalesce(s.score, 0) * d.weight / 100) filter (
                       where s.date_submitted <= {OULAD_DAY}
                   ) as weighted_score,
                   avg(d.date - s.date_submitted) filter (
                       where s.date_submitted <= {OULAD_DAY}
                   ) as mean_days_early
            from info as i
            left join due as d
              on d.code_module = i.code_module and d.code_presentation = i.code_presentation
            left join submitted as s
              on s.id_assessment = d.id_assessment and s.id_student = i.id_student
            group by all
        )
        select i.code_module, i.code_presentation, i.id_student,
               left(i.code_presentation, 4)::integer as academic_year,
               (i.final_result in ('Fail', 'Withdrawn'))::integer as label,
               coalesce(r.date_unregistration <= {OULAD_DAY}, false) as is_gone_by_day,
               r.date_registration, i.num_of_prev_attempts, i.studied_credits,
               p.assessments_due, p.submitted, p.late,
               p.assessments_due - p.submitted as missing,
               p.mean_score, p.weighted_score, p.mean_days_early
        from info as i
        inner join registration as r
          on r.id_student = i.id_student and r.code_module = i.code_module
         and r.code_presentation = i.code_presentation
        inner join per_student as p
          on p.id_student = i.id_student and p.code_module = i.code_module
         and p.code_presentation = i.code_presentation
        """
    ).df()


def oulad() -> dict:
    from steward.model.train import build_pipeline

    frame = oulad_features()
    columns = [
        "date_registration",
        "num_of_prev_attempts",
        "studied_credits",
        "assessments_due",
        "submitted",
        "late",
        "missing",
        "mean_score",
        "weighted_score",
        "mean_days_early",
    ]
    frame[columns] = frame[columns].astype(float)
    result = {"features": columns, "moodle_reference_auc": 0.73}
    # The unregistration date is never a feature. "still_enrolled" also leaves out students
    # who had already left by the cut-off day (their missing submissions give them away).
    for name, rows in (("all", frame), ("still_enrolled", frame[~frame["is_gone_by_day"]])):
        train = rows[rows["academic_year"] == 2013]
        test = rows[rows["academic_year"] == 2014]
        pipeline = build_pipeline(columns, frozenset({"studied_credits"}), 1.0)
        pipeline.fit(train[columns], train["label"])
        scores = pipeline.predict_proba(test[columns])[:, 1]
        result[name] = {
            "train_enrolments": int(len(train)),
            "test_enrolments": int(len(test)),
            "auc_2013_to_2014": round(float(roc_auc_score(test["label"], scores)), 4),
        }
    return result


def resample(frame: pd.DataFrame, students: int, seed: int) -> pd.DataFrame:
    """Whole enrolments drawn with replacement, each copy under a new pseudonym, until the
    frame holds `students` distinct students (keeping the enrolments per student)."""
    rng = np.random.default_rng(seed)
    per_student = frame.groupby("student_pseudonym")["module_instance_id"].nunique().mean()
    keys = frame[["student_pseudonym", "module_instance_id"]].drop_duplicates()
    wanted = round(students * per_student)
    picks = keys.iloc[rng.integers(0, len(keys), wanted)].reset_index(drop=True)
    picks["new_pseudonym"] = [f"bench{i % students:07d}" for i in range(wanted)]
    picks["copy"] = np.arange(wanted)
    out = picks.merge(frame, on=["student_pseudonym", "module_instance_id"])
    out["source_pseudonym"] = out["student_pseudonym"]
    out["student_pseudonym"] = out["new_pseudonym"]
    out["module_instance_id"] = out["module_instance_id"] + "#" + out["copy"].astype(str)
    return out.drop(columns=["new_pseudonym", "copy"])


def load_at_scale(big: pd.DataFrame, policy) -> float:
    """Seconds `features.labelled` takes to read `big` back from a DuckDB file holding it
    as the feature mart and the modules dimension."""
    from steward.model import features

    mart = big.drop(columns=["academic_year", "module_id", "source_pseudonym"]).rename(
        columns={"label": policy.label}
    )
    mart[policy.label] = mart[policy.label].astype(bool)
    modules = big[["module_instance_id", "academic_year", "module_id"]].drop_duplicates()
    with tempfile.TemporaryDirectory(prefix="bench-model-load-") as tmp:
        with duckdb.connect(str(Path(tmp) / "warehouse.duckdb")) as con:
            con.register("mart", mart)
            con.register("modules", modules)
            con.execute("create schema marts")
            con.execute(f"create table {features.FEATURES_TABLE} as select * from mart")
            con.execute("create table marts.dim_modules as select * from modules")
            start = time.perf_counter()
            features.labelled(con, policy)
            return time.perf_counter() - start


def scale(home: Path, students: int) -> dict:
    from steward.model import fairness, features, score, train
    from steward.model import policy as model_policy

    policy = model_policy.load()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        labelled = features.labelled(con, policy)
        current = features.current_week(con, policy)
        groups = fairness.load_groups(con, policy.fairness["attributes"])

    big = resample(labelled, students, seed=1)
    big_groups = (
        big[["student_pseudonym", "source_pseudonym"]]
        .drop_duplicates("student_pseudonym")
        .merge(
            groups, left_on="source_pseudonym", right_on="student_pseudonym", suffixes=("", "_src")
        )
        .drop(columns=["source_pseudonym", "student_pseudonym_src"])
    )
    load_seconds = load_at_scale(big, policy)
    start = time.perf_counter()
    candidate = train.train_candidate(big, big_groups, policy)
    train_seconds = time.perf_counter() - start

    to_score = resample(current, students, seed=2)
    start = time.perf_counter()
    predictions = score.predict(to_score, candidate.model, policy)
    score_seconds = time.perf_counter() - start
    with duckdb.connect() as con:
        from steward.model import registry

        registry.ensure(con)
        start = time.perf_counter()
        score.write_predictions(con, predictions, "bench")
        write_seconds = time.perf_counter() - start
    return {
        "students": students,
        "labelled_rows": int(len(big)),
        "load_seconds": round(load_seconds, 2),
        "train_seconds": round(train_seconds, 2),
        "scored_rows": int(len(predictions)),
        "score_seconds": round(score_seconds, 2),
        "write_predictions_seconds": round(write_seconds, 2),
        "auc_on_resampled": round(candidate.metrics["roc_auc"], 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="a built STEWARD_HOME (default: build one)")
    parser.add_argument("--institution", type=Path, help="the generated folder it was built from")
    parser.add_argument("--generate", type=int, default=5_000, help="students to generate")
    parser.add_argument("--keep", type=Path, help="build in (or reuse) this folder and keep it")
    parser.add_argument("--students", type=int, default=50_000)
    args = parser.parse_args()
    if (args.home is None) != (args.institution is None):
        parser.error("--home and --institution go together")
    work = None
    if args.home is None:
        work = args.keep or Path(tempfile.mkdtemp(prefix="bench-model-"))
        args.home, args.institution = build(work, args.generate)
    try:
        results = {
            "oracle": oracle(args.home, args.institution),
            "oulad": oulad(),
            "scale": scale(args.home, args.students),
        }
    finally:
        if work is not None and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["peak_rss_mib"] = round(peak_rss_mib(), 1)
    o, u, s = results["oracle"], results["oulad"], results["scale"]
    print(
        table(
            [
                ("model AUC (weeks 0-12)", f"{o['model_auc']:.3f}  (goal: within 0.03 of oracle)"),
                ("oracle AUC (true_risk)", f"{o['oracle_auc']:.3f}  gap {o['auc_gap']:+.3f}"),
                (
                    "AUC at last week",
                    f"{o['model_auc_last_week']:.3f} vs oracle {o['oracle_auc_last_week']:.3f}",
                ),
                ("ECE", f"{o['ece']:.4f}  (goal <= 0.05)"),
                (
                    f"gate ({o['students']:,} labelled students)",
                    f"{o['verdict']}" + "".join(f"; {message}" for message in o["failures"]),
                ),
                (
                    "OULAD 2013->2014 AUC",
                    f"{u['all']['auc_2013_to_2014']:.3f} all, "
                    f"{u['still_enrolled']['auc_2013_to_2014']:.3f} still enrolled at day "
                    f"{OULAD_DAY}  (Moodle: 0.73)",
                ),
                ("load labelled rows", f"{s['load_seconds']:.1f} s"),
                (
                    f"train {s['students']:,} students",
                    f"{s['train_seconds']:.1f} s ({s['labelled_rows']:,} rows; goal < 60 s)",
                ),
                (
                    f"score {s['students']:,} students",
                    f"{s['score_seconds']:.2f} s ({s['scored_rows']:,} rows; goal < 5 s)",
                ),
                ("write predictions", f"{s['write_predictions_seconds']:.2f} s"),
                ("peak RSS", f"{results['peak_rss_mib']:.0f} MiB"),
            ]
        )
    )
    print(f"written {save('model', results)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

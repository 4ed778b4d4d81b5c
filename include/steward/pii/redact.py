"""Redact free text (case notes, forum posts) before it leaves the identified zone.

Every detected identifier becomes a typed placeholder (`<PERSON>`, `<EMAIL_ADDRESS>`,
`<UK_PHONE>`, ...). Mentions of the note's own subject (the names the identified
zone holds for that student) become the subject's pseudonym tag instead, e.g.
`<STUDENT:ab12cd34>`, so analysts can still tell "the student" from other people.
The same input always gives the same output; the original text is never logged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from spacy.lang.en.stop_words import STOP_WORDS

from steward.pii.detect import Detector, PiiSpan, get_detector, resolve_overlaps

K = TypeVar("K")

SUBJECT = "SUBJECT"
_NAME_PART = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


# What redaction leaves in text: `<PERSON>`, `<UK_PHONE>`, a subject tag `<STUDENT:9f3a...>`.
PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*(?::[0-9a-f]+)?>")


def placeholder(entity_type: str) -> str:
    return f"<{entity_type}>"


def _name_parts(subject_names: Sequence[str]) -> tuple[set[str], set[str]]:
    full = {name.strip() for name in subject_names if name and name.strip()}
    parts = {p for name in full for p in _NAME_PART.findall(name) if len(p) > 1}
    return full, parts


def subject_mentions(text: str, subject_names: Sequence[str]) -> list[PiiSpan]:
    """Spans where the subject is named: each full name and each part of it of two or
    more letters, in any case ("clarke, amelia" in a hasty note). A part that is also an
    English function word ("Will", "May") is matched only capitalised, so "will" the
    verb stays; a part that is a content word ("Rose") is replaced even as "rose":
    over-redacting a word is the safer mistake."""
    full, parts = _name_parts(subject_names)
    function_words = {p for p in parts if p.lower() in STOP_WORDS}
    any_case = full | (parts - function_words)
    as_names = {f for p in function_words for f in (p, p[:1].upper() + p[1:], p.upper())}
    spans = []
    for words, flags in ((any_case, re.IGNORECASE), (as_names, 0)):
        if not words:
            continue
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        for match in re.finditer(rf"(?<![\w'’-])(?:{alternatives})(?![\w-])", text, flags):
            spans.append(PiiSpan(SUBJECT, match.start(), match.end(), 1.0))
    return resolve_overlaps(spans)


def merge_subject(text: str, spans: list[PiiSpan], subject_names: Sequence[str]) -> list[PiiSpan]:
    """Detections combined with mentions of the subject.

    - an identifier that contains the name (an email address) keeps its own type;
    - a PERSON detection made only of the subject's name parts becomes a subject
      mention; one that also holds other names ("Joanne Clarke", the subject's mother)
      stays PERSON and swallows the mention;
    - mentions NER missed are added.
    """
    _, parts = _name_parts(subject_names)
    lowered = {p.lower() for p in parts}
    identifiers = [s for s in spans if s.entity_type != "PERSON"]
    persons = [s for s in spans if s.entity_type == "PERSON"]
    mentions = [
        m for m in subject_mentions(text, subject_names) if not _touches_any(m, identifiers)
    ]
    others, subject = [], list(mentions)
    for person in persons:
        if not _touches_any(person, mentions):
            others.append(person)
        elif all(w.lower() in lowered for w in _NAME_PART.findall(text[person.start : person.end])):
            subject.append(person._replace(entity_type=SUBJECT))
        else:
            others.append(person)
            subject = [m for m in subject if not _touches_any(m, [person])]
    merged: list[PiiSpan] = []
    for span in sorted(subject, key=lambda m: m.start):
        if merged and span.start < merged[-1].end:
            merged[-1] = merged[-1]._replace(end=max(merged[-1].end, span.end))
        else:
            merged.append(span)
    return sorted(identifiers + merged + others, key=lambda s: s.start)


def _touches_any(span: PiiSpan, others: Iterable[PiiSpan]) -> bool:
    return any(span.start < o.end and o.start < span.end for o in others)


def apply_placeholders(text: str, spans: Iterable[PiiSpan], subject_tag: str | None) -> str:
    out, cursor = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[cursor : span.start])
        if span.entity_type == SUBJECT:
            out.append(subject_tag or placeholder("PERSON"))
        else:
            out.append(placeholder(span.entity_type))
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)


def redact(
    text: str,
    subject_names: Sequence[str] = (),
    subject_tag: str | None = None,
    *,
    detector: Detector | None = None,
) -> str:
    """`text` with every detected identifier replaced by its typed placeholder and
    every mention of `subject_names` by `subject_tag` (or `<PERSON>` without a tag)."""
    detector = detector or get_detector()
    return _redacted(text, detector.detect(text), subject_names, subject_tag)


def redact_many(
    notes: Iterable[tuple[K, str, Sequence[str], str | None]],
    batch_size: int | None = None,
    n_process: int | None = None,
    *,
    detector: Detector | None = None,
) -> Iterator[tuple[K, str]]:
    """(key, redacted text) for each (key, text, subject_names, subject_tag), batched
    through spaCy's pipe (see `Detector.detect_many`)."""
    for key, text, _counts in redact_many_counted(notes, batch_size, n_process, detector=detector):
        yield key, text


def redact_many_counted(
    notes: Iterable[tuple[K, str, Sequence[str], str | None]],
    batch_size: int | None = None,
    n_process: int | None = None,
    *,
    detector: Detector | None = None,
) -> Iterator[tuple[K, str, Counter[str]]]:
    """As `redact_many`, with the number of placeholders of each entity type put in
    (mentions of the subject counted as `SUBJECT`)."""
    detector = detector or get_detector()
    subjects: dict[int, tuple[K, str, Sequence[str], str | None]] = {}

    def texts() -> Iterator[tuple[int, str]]:
        for index, note in enumerate(notes):
            subjects[index] = note
            yield index, note[1]

    for index, spans in detector.detect_many(texts(), batch_size, n_process):
        key, text, names, tag = subjects.pop(index)
        merged = merge_subject(text, spans, names)
        counts = Counter(span.entity_type for span in merged)
        yield key, apply_placeholders(text, merged, tag), counts


def _redacted(
    text: str, spans: list[PiiSpan], subject_names: Sequence[str], subject_tag: str | None
) -> str:
    return apply_placeholders(text, merge_subject(text, spans, subject_names), subject_tag)

"""Date of birth: a calendar date the text itself calls a birth date."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from presidio_analyzer import Pattern, PatternRecognizer, RecognizerResult

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
# A full stop, ! or ? followed by a capitalised word ("d.o.b. 1/2/03" is not an end).
_SENTENCE_END = re.compile(r"[.!?;]\s+(?=[A-Z])")


class DateOfBirthRecognizer(PatternRecognizer):
    """A date (numeric or written) reported only when a birth cue is next to it.

    Meeting and deadline dates are not personal data in a note; a date becomes a date
    of birth when the text says so ("DOB", "date of birth", "born on", "birthday").
    Presidio's lemma enhancer cannot see "born" (its lemma is "bear") and looks only a
    few words back, so the cue is matched here on the raw text around the date.
    """

    ENTITY = "DATE_OF_BIRTH"
    PATTERNS = [
        Pattern(
            "dd/mm/yyyy",
            rf"\b(?=\d{{1,2}}[/.-])(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|1[0-2])\1{_YEAR}\b",
            0.1,
        ),
        Pattern(
            "dd/mm/yy",
            r"\b(?=\d{1,2}[/.-])(?:0?[1-9]|[12]\d|3[01])([/.-])(?:0?[1-9]|1[0-2])\1\d{2}\b",
            0.1,
        ),
        Pattern(
            "yyyy-mm-dd", rf"\b(?=\d{{4}}-){_YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b", 0.1
        ),
        Pattern("d month yyyy", rf"\b(?=\d)(?:{_DAY})(?:\s+of)?\s+{_MONTH},?\s+{_YEAR}\b", 0.1),
        Pattern(
            "month d, yyyy", rf"\b(?=[adfjmnos][a-z]{{2}})(?:{_MONTH})\s+{_DAY},?\s+{_YEAR}\b", 0.1
        ),
    ]
    CONTEXT = ["dob", "d.o.b", "date of birth", "birth date", "birthdate", "birthday", "born"]
    SCORE_WITH_CUE = 0.85
    # Characters either side of the date searched for a cue ("DOB: ", "(date of birth)").
    WINDOW_BEFORE = 40
    WINDOW_AFTER = 20

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
            supported_language=supported_language,
        )
        self._cue = re.compile(
            r"\b(?:" + "|".join(re.escape(word) for word in self.CONTEXT) + r")",
            re.IGNORECASE,
        )

    def enhance_using_context(
        self,
        text: str,
        raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult],
        nlp_artifacts: object,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        kept = []
        ends = sorted(r.end for r in raw_recognizer_results)
        starts = sorted(r.start for r in raw_recognizer_results)
        for result in raw_recognizer_results:
            # A cue belongs to the nearest date: stop the window at a neighbouring date.
            i = bisect_right(ends, result.start)
            previous_end = ends[i - 1] if i else 0
            j = bisect_left(starts, result.end)
            next_start = starts[j] if j < len(starts) else len(text)
            before = text[max(previous_end, result.start - self.WINDOW_BEFORE) : result.start]
            after = text[result.end : min(next_start, result.end + self.WINDOW_AFTER)]
            # ...nor does a cue in the previous or next sentence.
            before = _SENTENCE_END.split(before)[-1]
            after = _SENTENCE_END.split(after)[0]
            if self._cue.search(before) or self._cue.search(after):
                result.score = self.SCORE_WITH_CUE
                result.recognition_metadata[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = (
                    True
                )
                kept.append(result)
        return kept

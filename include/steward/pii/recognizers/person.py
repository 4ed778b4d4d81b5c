"""Person names: spaCy NER, then context the small NER model does not use."""

from __future__ import annotations

import regex as re
from presidio_analyzer import AnalysisExplanation, LocalRecognizer, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS

from steward.pii._intervals import DisjointIntervals

# A capitalised name word: "Amelia", "McKenzie", "O'Donnell", "Rębiś", "Smith-Jones".
NAME_WORD = r"(?:\p{Lu}['’](?=\p{Lu}))?\p{Lu}\p{Ll}+(?:\p{Lu}\p{Ll}+)?(?:['’-](?:\p{Lu}\p{Ll}+|\p{Ll}{2,}))*"
_NAME_WORD = re.compile(NAME_WORD)
_NAME_RUN = re.compile(rf"{NAME_WORD}(?:[ ]{NAME_WORD}){{0,2}}")
# A name word standing alone (not inside "iPhone" or an email address).
_NAME_TOKEN = re.compile(rf"(?<![\w'’@.-]){NAME_WORD}(?![\w@-])")
_ENDS_WITH_NUMBER = re.compile(r"\d\s*$")
_LOCAL_PART_SEPARATOR = re.compile(r"[._-]")
# The word(s) right after a run.
_NEXT = re.compile(r" (\p{L}+)")  # used with .match(text, pos)
_OWNS = re.compile(r"['’]s (\p{L}+)")


def _words_before(text: str, start: int) -> tuple[str, str]:
    """The two words before `start`, lower-cased, when the nearer one is separated from
    it by one space (and an optional comma): same sentence, same clause."""
    before = text[max(0, start - 40) : start]
    if not before.endswith(" ") or before.endswith("  "):
        return "", ""
    words = before[:-1].rsplit(" ", 2)
    previous = words[-1].removesuffix(",")
    preceding = words[-2] if len(words) > 1 else ""
    return (
        previous.lower() if previous.isalpha() else "",
        preceding.lower() if preceding.isalpha() else "",
    )


class PersonRecognizer(LocalRecognizer):
    """Names of students, family members and staff in free text, from four sources
    (strongest first):

    1. the spaCy NER model's PERSON entities (titles and possessives trimmed);
    2. a title followed by a capitalised name ("Dr Okafor": the name, not the title);
    3. a run of capitalised words in a person's slot: right after a word that takes a
       person ("with", "reminded", "mother", "spoke to"), right before a verb people
       do ("asked", "rang", "came"), or owning a relative ("Rebecca's mother");
    4. later mentions of a name part already found in the same text, including the
       parts of a "first.last@" email address ("Amelia Clarke ... Amelia said").
    """

    ENTITY = "PERSON"
    HONORIFICS = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Sir", "Dame")
    PATTERNS = [
        Pattern(
            "title + name",
            r"\b(?:" + "|".join(HONORIFICS) + rf")\.?\s+(?P<name>{NAME_WORD}(?:[ ]{NAME_WORD})?)",
            0.85,
        )
    ]
    # Words after which a capitalised word is a person.
    CONTEXT = [
        "with", "reminded", "told", "asked", "emailed", "phoned", "called", "contacted",
        "met", "advised", "thanked", "informed", "messaged", "texted", "visited", "student",
        "tutor", "mother", "father", "mum", "dad", "parent", "partner", "sister", "brother",
        "friend", "carer", "guardian", "son", "daughter", "wife", "husband", "named",
        "colleague", "supervisor", "copied", "cc",
    ]  # fmt: skip
    # ... and "<verb> to <Name>".
    CONTEXT_BEFORE_TO = frozenset(
        {
            "spoke", "speak", "talked", "talk", "wrote", "write", "referred", "refer",
            "passed", "sent", "introduced", "explained", "replied", "forwarded",
            "signposted", "reached", "apologised", "handed",
        }
    )  # fmt: skip
    # Verbs after which the capitalised words before them are a person.
    CONTEXT_AFTER = frozenset(
        {
            "said", "says", "asked", "asks", "came", "comes", "rang", "rings", "emailed",
            "phoned", "called", "explained", "reported", "mentioned", "told", "agreed",
            "attended", "dropped", "missed", "feels", "felt", "seemed", "wants", "wanted",
            "prefers", "preferred", "lives", "lived", "confirmed", "disclosed", "admitted",
            "requested", "submitted", "declined", "struggles", "struggled", "worries",
            "arrived", "left", "replied", "wrote", "cried", "laughed",
        }
    )  # fmt: skip
    # Relatives and roles a person owns ("Rebecca's mother").
    OWNED = frozenset(
        {
            "mother", "father", "mum", "dad", "parent", "parents", "partner", "sister",
            "brother", "friend", "carer", "guardian", "son", "daughter", "wife", "husband",
            "family", "housemate", "flatmate", "supervisor", "tutor", "email", "phone",
            "mobile", "address",
        }
    )  # fmt: skip
    CONTEXT_NAME_SCORE = 0.6
    REPEAT_SCORE = 0.7
    # Capitalised words that are never name parts (sentence starts, roles, calendar).
    NOT_NAMES = frozenset(
        {
            "The", "She", "He", "They", "Her", "His", "Their", "We", "I", "It", "A", "An",
            "And", "But", "This", "That", "These", "Those", "There", "Student", "Students",
            "Tutor", "Staff", "Mum", "Dad", "Mother", "Father", "Parent", "Partner",
            "Everyone", "Someone", "Nobody", "Monday", "Tuesday", "Wednesday", "Thursday",
            "Friday", "Saturday", "Sunday", "January", "February", "March", "April", "June",
            "July", "August", "September", "October", "November", "December", "Jan", "Feb",
            "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Week", "Term",
            "University", "College", "School", "Department", "Faculty", "Today", "Yesterday",
            "Tomorrow", "Later", "Earlier", "Unfortunately", "Apparently", "Sadly", "Recently",
            "Currently", "Previously", "Overall", "Initially", "Finally", "Hopefully",
            "Clearly", "Generally", "Usually", "Additionally", "Separately", "Subsequently",
        }
    )  # fmt: skip

    def __init__(self, supported_language: str = "en") -> None:
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            context=self.CONTEXT,
        )
        # Names are capitalised: unlike Presidio's default flags, match case-sensitively.
        self._titled = re.compile(self.PATTERNS[0].regex)
        self._name_email = re.compile(r"\b([a-z]{2,}[._-][a-z]{2,})\d*@", re.IGNORECASE)
        self._context_before = frozenset(self.CONTEXT)
        self._cues = self._context_before | self.CONTEXT_BEFORE_TO

    def load(self) -> None:
        """Nothing to load: NER runs in the NLP engine."""

    def _not_name(self, word: str) -> bool:
        """Capitalised words that are never names: sentence starts, roles, calendar,
        English function words ("After", "Then"), titles and context cues."""
        return (
            word in self.NOT_NAMES
            or word in self.HONORIFICS
            or word.lower() in STOP_WORDS
            or word.lower() in self._cues
        )

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        if self.ENTITY not in entities:
            return []
        spans: dict[tuple[int, int], tuple[float, str]] = {}
        taken = DisjointIntervals()

        def add(span: tuple[int, int], score: float, why: str) -> None:
            if not taken.overlapping(*span):
                spans[span] = (score, why)
                taken.add(*span)

        if nlp_artifacts is not None:
            for entity, score in zip(nlp_artifacts.entities, nlp_artifacts.scores, strict=False):
                if entity.label_ == self.ENTITY:
                    cleaned = self._clean(text, entity.start_char, entity.end_char)
                    if cleaned:
                        add(cleaned, score, "spaCy NER")
        for match in self._titled.finditer(text):
            add(match.span("name"), self.PATTERNS[0].score, "title + name")
        for span in self._in_person_slot(text):
            add(span, self.CONTEXT_NAME_SCORE, "capitalised words in a person's slot")
        for span in self._repeats(text, spans):
            add(span, self.REPEAT_SCORE, "repeat of a name found in this text")
        return [
            self._result(start, end, score, why) for (start, end), (score, why) in spans.items()
        ]

    def _clean(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The name inside an NER span, from its first to its last name word (no title,
        cue word, initial or possessive); None if the span holds digits or an '@' (an
        address or identifier, not a name)."""
        value = text[start:end]
        if any(ch.isdigit() for ch in value) or "@" in value:
            return None
        words = [m for m in _NAME_WORD.finditer(text, start, end) if not self._not_name(m.group())]
        if not words:
            return None
        return words[0].start(), words[-1].end()

    def _in_person_slot(self, text: str) -> list[tuple[int, int]]:
        found = []
        for match in _NAME_RUN.finditer(text):
            words = [
                (m.start(), m.end(), m.group())
                for m in _NAME_WORD.finditer(text, match.start(), match.end())
            ]
            # A sentence-initial cue ("Reminded Beverley") is context, not name; titles
            # and words that are never names are not part of the run either.
            cue = None
            while words and self._not_name(words[0][2]):
                cue = words.pop(0)[2].lower()
            while words and self._not_name(words[-1][2]):
                words.pop()
            if not words:
                continue
            start, end = words[0][0], words[-1][1]
            if cue is not None:
                previous, preceding = cue, ""
            else:
                previous, preceding = _words_before(text, start)
            if _ENDS_WITH_NUMBER.search(text, max(0, start - 3), start):
                continue  # "3 May 2026": a date, not a name
            following = _NEXT.match(text, end)
            owns = _OWNS.match(text, end)
            if (
                previous in self._context_before
                or (previous == "to" and preceding in self.CONTEXT_BEFORE_TO)
                or (following and following.group(1).lower() in self.CONTEXT_AFTER)
                or (owns and owns.group(1).lower() in self.OWNED)
            ):
                found.append((start, end))
        return found

    def _repeats(
        self, text: str, spans: dict[tuple[int, int], tuple[float, str]]
    ) -> list[tuple[int, int]]:
        parts = set()
        for start, end in spans:
            parts.update(m.group() for m in _NAME_WORD.finditer(text, start, end))
        # "first.last@..." addresses name their owner: "Damian" is a name when
        # damian.davey@example.ac.uk appears in the same note.
        for local in self._name_email.findall(text):
            parts.update(p.capitalize() for p in _LOCAL_PART_SEPARATOR.split(local))
        parts = {p for p in parts if not self._not_name(p)}
        if not parts:
            return []
        # Every mention of a known part; neighbouring parts join into one name.
        found: list[tuple[int, int]] = []
        for match in _NAME_TOKEN.finditer(text):
            if match.group() not in parts:
                continue
            if found and text[found[-1][1] : match.start()] == " ":
                found[-1] = (found[-1][0], match.end())
            else:
                found.append(match.span())
        return found

    def _result(self, start: int, end: int, score: float, why: str) -> RecognizerResult:
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=AnalysisExplanation(
                recognizer=self.name, original_score=score, textual_explanation=why
            ),
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                # Context was used above; Presidio's enhancer need not boost again.
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: why != "spaCy NER",
            },
        )

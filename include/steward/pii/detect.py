"""Find PII spans in free text: Presidio analysis plus the policy's allow-list and one
entity per stretch of text, in batches that keep memory flat."""

from __future__ import annotations

import re
import sys
import types
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from functools import cache
from itertools import chain, islice
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any, NamedTuple, TypeVar

from presidio_analyzer import AnalyzerEngine, RecognizerResult
from threadpoolctl import ThreadpoolController

from steward.pii._intervals import DisjointIntervals
from steward.pii.analyzer import build_analyzer, get_analyzer
from steward.pii.policy import PiiPolicy, load_pii_policy

K = TypeVar("K")

# When two detections overlap with equal score and length, the earlier type wins:
# checksummed identifiers before formats before names.
ENTITY_PRIORITY = (
    "EMAIL_ADDRESS",
    "NHS",
    "ULN",
    "HUSID",
    "UK_NINO",
    "STUDENT_ID",
    "UK_PHONE",
    "UK_POSTCODE",
    "DATE_OF_BIRTH",
    "PERSON",
)


class PiiWorkerError(RuntimeError):
    """A PII worker process exited before finishing its work; the run stops."""


class PiiSpan(NamedTuple):
    entity_type: str
    start: int
    end: int
    score: float


class AllowList:
    """Institutional vocabulary (module codes, buildings, role titles) that is not PII.

    A detection lying inside allow-listed text is dropped. A PERSON detection that
    only overlaps it is trimmed to the rest ("CS101 Intro" -> dropped when both words
    are allow-listed; "Dr Okafor Module Leader" -> "Okafor").
    """

    def __init__(self, patterns: Sequence[str], terms: Sequence[str]) -> None:
        self._patterns = [re.compile(p) for p in patterns]
        escaped = sorted((re.escape(t) for t in terms if t.strip()), key=len, reverse=True)
        self._terms = (
            re.compile(r"(?<!\w)(?:" + "|".join(escaped) + r")(?!\w)", re.IGNORECASE)
            if escaped
            else None
        )

    def intervals(self, text: str) -> list[tuple[int, int]]:
        found = [m.span() for p in self._patterns for m in p.finditer(text)]
        if self._terms is not None:
            found.extend(m.span() for m in self._terms.finditer(text))
        return sorted(found)

    def apply(self, text: str, spans: list[PiiSpan]) -> list[PiiSpan]:
        allowed = self.intervals(text)
        if not allowed:
            return spans
        kept = []
        for span in spans:
            rest = _uncovered(text, span.start, span.end, allowed)
            if not rest:
                continue
            if (span.start, span.end) in rest:
                kept.append(span)
            elif span.entity_type == "PERSON":
                kept.extend(span._replace(start=s, end=e) for s, e in rest if text[s].isupper())
            else:
                kept.append(span)
        return kept


def _uncovered(
    text: str, start: int, end: int, allowed: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """Stretches of text[start:end] outside the allowed intervals, trimmed of
    whitespace and punctuation; empty when nothing word-like remains."""
    pieces, cursor = [], start
    for a, b in allowed:
        if b <= cursor or a >= end:
            continue
        if a > cursor:
            pieces.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < end:
        pieces.append((cursor, end))
    trimmed = []
    for s, e in pieces:
        while s < e and not text[s].isalnum():
            s += 1
        while e > s and not text[e - 1].isalnum():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed


def resolve_overlaps(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """One entity per stretch of text: highest score, then longest, then priority."""

    def rank(span: PiiSpan) -> tuple:
        priority = (
            ENTITY_PRIORITY.index(span.entity_type)
            if span.entity_type in ENTITY_PRIORITY
            else len(ENTITY_PRIORITY)
        )
        return (-span.score, -(span.end - span.start), priority, span.start)

    chosen: list[PiiSpan] = []
    taken = DisjointIntervals()
    for span in sorted(spans, key=rank):
        overlapping = taken.overlapping(span.start, span.end)
        if overlapping and span.entity_type == "PERSON":
            # A name that runs into an identifier ("... 97 A. Reminded Beverley") keeps
            # the part outside it.
            rest = _outside(span.start, span.end, overlapping)
            if rest is None or rest[1] - rest[0] < 2:
                continue
            span = span._replace(start=rest[0], end=rest[1])
        elif overlapping:
            continue
        chosen.append(span)
        taken.add(span.start, span.end)
    return sorted(chosen, key=lambda s: (s.start, s.end))


def _outside(start: int, end: int, taken: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The longest stretch of [start, end) outside the taken intervals."""
    best, cursor = None, start
    for a, b in sorted(taken) + [(end, end)]:
        if a > cursor and (best is None or a - cursor > best[1] - best[0]):
            best = (cursor, min(a, end))
        cursor = max(cursor, b)
    return best


class Detector:
    """Presidio analysis under the PII policy. Build one per process (`get_detector`)."""

    def __init__(self, analyzer: AnalyzerEngine, policy: PiiPolicy) -> None:
        self.analyzer = analyzer
        self.policy = policy
        self.allow_list = AllowList(policy.allow_patterns, policy.allow_terms)
        self._nlp = analyzer.nlp_engine.nlp[policy.language]
        # The spaCy pipeline multiplies through numpy's OpenBLAS (analyzer.MatmulOps):
        # one thread per process, since parallel work is done by worker processes.
        self._blas = ThreadpoolController()
        self._tokens_cached = False

    @contextmanager
    def _analysing(self) -> Iterator[None]:
        """Context for an analysis: one BLAS thread, and a spaCy memory zone."""
        with self._blas.limit(limits=1, user_api="blas"), self._nlp.memory_zone():
            yield

    def detect(self, text: str) -> list[PiiSpan]:
        """PII spans in `text`, sorted by position, never overlapping."""
        with self._analysing():
            results = self.analyzer.analyze(text=text, language=self.policy.language)
            return self._finish(text, results)

    def detect_many(
        self,
        items: Iterable[tuple[K, str]],
        batch_size: int | None = None,
        n_process: int | None = None,
    ) -> Iterator[tuple[K, list[PiiSpan]]]:
        """(key, spans) for each (key, text), in input order.

        Texts go through spaCy's `pipe` in batches of `batch_size`, in blocks analysed
        inside `nlp.memory_zone()`: the strings spaCy interns for unseen tokens are
        freed after every block, so a long run does not grow (spaCy's StringStore
        otherwise keeps every token it has seen). With `n_process` > 1, blocks are
        analysed by that many spawned worker processes (spaCy and Presidio both run
        in the worker; only the policy, texts and spans cross process boundaries) when
        there is more than one block of input. Workers do not run the caller's
        `__main__` (`_WorkerProcess`), so they start from an Airflow task too; one that
        exits early raises `PiiWorkerError` and is not replaced. Defaults come from the
        policy's `batch` section.
        """
        batch_size = batch_size or self.policy.batch_size
        n_process = n_process or self.policy.n_process
        zone = self.policy.memory_zone_docs
        iterator = iter(items)
        # Workers only pay off for more than one block; a short input stays here.
        head = list(islice(iterator, zone + 1))
        iterator = chain(head, iterator)
        if n_process > 1 and len(head) > zone:
            yield from self._detect_in_workers(iterator, batch_size, n_process)
            return
        while block := list(islice(iterator, zone)):
            yield from self._detect_block(block, batch_size)

    def _detect_in_workers(
        self, iterator: Iterator[tuple[K, str]], batch_size: int, n_process: int
    ) -> Iterator[tuple[K, list[PiiSpan]]]:
        # Small blocks keep both workers busy; each is still one memory zone.
        block_size = max(batch_size, min(self.policy.memory_zone_docs, 4 * batch_size))
        # Spawned, not forked: forked from a process running other threads (a test
        # session after Airflow and model tests), a worker waited on a copied lock for
        # ever. Each worker builds its own analyzer from the policy (about a second). A
        # ProcessPoolExecutor, not a multiprocessing.Pool: a worker that dies breaks the
        # executor, where a Pool starts another in its place, for ever if it dies at start.
        pool = ProcessPoolExecutor(
            n_process,
            mp_context=_WorkerContext(),
            initializer=_start_worker,
            initargs=(self.policy,),
        )
        pending: deque[tuple[list[K], Future]] = deque()
        try:
            # Blocks are read here, in the caller's thread, so an input error surfaces
            # as itself and stops the workers.
            while block := list(islice(iterator, block_size)):
                keys = [key for key, _ in block]
                texts = [text for _, text in block]
                pending.append((keys, pool.submit(_worker_detect, texts, batch_size)))
                if len(pending) > 2 * n_process:
                    yield from _completed(pending.popleft())
            while pending:
                yield from _completed(pending.popleft())
        except BrokenProcessPool as exc:
            raise PiiWorkerError(
                f"PII analysis in {n_process} worker processes stopped: a worker exited "
                "before finishing its work (it failed to start, or it was killed, e.g. for "
                "memory); its own error, if it could report one, is in the log above. To "
                "analyse in the calling process instead, set 'batch.n_process: 1' in "
                "include/policies/pii.yaml."
            ) from exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _detect_block(
        self, block: list[tuple[K, str]], batch_size: int
    ) -> list[tuple[K, list[PiiSpan]]]:
        language = self.policy.language
        out = []
        if not self._tokens_cached:
            self._cache_tokens(text for _key, text in block)
        with self._analysing():
            processed = self.analyzer.nlp_engine.process_batch(
                texts=[(text, key) for key, text in block],
                language=language,
                batch_size=batch_size,
                as_tuples=True,
            )
            for text, artifacts, key in processed:
                results = self.analyzer.analyze(
                    text=text, language=language, nlp_artifacts=artifacts
                )
                out.append((key, self._finish(text, results)))
        return out

    def _cache_tokens(self, texts: Iterable[str]) -> None:
        """Tokenise the first block this process analyses outside a memory zone, once.

        spaCy's tokenizer remembers how it split each whitespace-separated chunk, but not
        inside a memory zone, where every block is analysed: there every chunk was split
        afresh, the tokenizer a fifth of the analysis. Chunks remembered from one block
        (the words of the texts at hand, a bounded set) are then reused in every block.
        Tokens are the same either way; only the time changes."""
        for _doc in self._nlp.tokenizer.pipe(texts):
            pass
        self._tokens_cached = True

    def _finish(self, text: str, results: list[RecognizerResult]) -> list[PiiSpan]:
        spans = [PiiSpan(r.entity_type, r.start, r.end, round(r.score, 4)) for r in results]
        return resolve_overlaps(self.allow_list.apply(text, spans))


_WORKER_DETECTOR: Detector | None = None


def _start_worker(policy: PiiPolicy) -> None:
    """Runs once in each spawned worker: its own analyzer for the caller's policy."""
    global _WORKER_DETECTOR
    _WORKER_DETECTOR = Detector(build_analyzer(policy), policy)


def _worker_detect(texts: list[str], batch_size: int) -> list[list[PiiSpan]]:
    """Runs in a worker: spans for each text of one block."""
    assert _WORKER_DETECTOR is not None, "worker was started without its detector"
    return [
        spans for _, spans in _WORKER_DETECTOR._detect_block(list(enumerate(texts)), batch_size)
    ]


def _completed(item: tuple[list[K], Future]) -> Iterator[tuple[K, list[PiiSpan]]]:
    keys, result = item
    return zip(keys, result.result(), strict=True)


class _WorkerProcess(SpawnProcess):
    """A spawned process that does not run its parent's `__main__` module.

    Spawn tells the child which module is the parent's `__main__`
    (`multiprocessing.spawn.get_preparation_data`: `init_main_from_name` for `python -m`,
    else `init_main_from_path`), and the child runs it again as `__mp_main__` before it
    unpickles its target (`spawn._fixup_main_from_name` / `_fixup_main_from_path`). In an
    Airflow 3 task process that module is Airflow's entry point: a worker re-ran Airflow's
    start-up, which failed on the database address a task may not use. Our workers need
    nothing from `__main__` (their functions live in this module), so while a worker is
    launched the parent's `__main__` is replaced by an empty module, about which spawn
    sends nothing. The swap lasts as long as `Popen` (the child's launch and the pickling
    of its arguments); another thread looking `__main__` up in that moment would see the
    empty module.
    """

    @staticmethod
    def _Popen(process_obj: SpawnProcess) -> Any:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return SpawnProcess._Popen(process_obj)
        finally:
            sys.modules["__main__"] = main


class _WorkerContext(SpawnContext):
    Process = _WorkerProcess


@cache
def get_detector() -> Detector:
    """The process-wide Detector for the policy in `include/policies/pii.yaml`."""
    return Detector(get_analyzer(), load_pii_policy())

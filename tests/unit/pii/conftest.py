"""The analyzer loads the spaCy pipeline (seconds): build it once per test session."""

from __future__ import annotations

import pytest

from steward.pii import Detector, get_detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    return get_detector()


@pytest.fixture(scope="session")
def found(detector: Detector):
    """`found(text)` -> [(entity_type, matched text)] for everything detected."""

    def _found(text: str) -> list[tuple[str, str]]:
        return [(s.entity_type, text[s.start : s.end]) for s in detector.detect(text)]

    return _found

"""Disjoint half-open intervals with logarithmic overlap queries (long texts hold
thousands of detections; pairwise checks would be quadratic)."""

from __future__ import annotations

from bisect import bisect_right, insort


class DisjointIntervals:
    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlapping(self, start: int, end: int) -> list[tuple[int, int]]:
        """Stored intervals that share at least one position with [start, end)."""
        found = []
        i = bisect_right(self._ends, start)  # first interval ending after `start`
        while i < len(self._starts) and self._starts[i] < end:
            found.append((self._starts[i], self._ends[i]))
            i += 1
        return found

    def add(self, start: int, end: int) -> None:
        """Store [start, end); the caller guarantees it overlaps nothing stored."""
        insort(self._starts, start)
        insort(self._ends, end)

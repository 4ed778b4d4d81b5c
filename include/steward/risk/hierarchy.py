"""Generalisation hierarchies: ARX's CSV format, and builders for common attributes.

A hierarchy maps each raw value to one label per level: level 0 is the value itself,
the last level is the same for every value (ARX writes ``*``). In ARX's CSV format
each row is ``value;level1;level2;...;*`` and every row has the same length.

Hierarchies must nest: two values that share a label at one level share every
higher label. The lattice search relies on this (a more general level never splits
a class), so :class:`Hierarchy` refuses one that does not nest.

Builders make hierarchies from the values a column holds: :func:`interval_hierarchy`
(age and other numbers, nested bands), :func:`postcode_hierarchy` (UK postcodes to
sector, district, area), :func:`date_hierarchy` (ISO dates to month, quarter, year)
and :func:`prefix_hierarchy` (any code whose leading characters group it).
:func:`hierarchy_from_spec` picks one from a policy entry.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.risk.errors import RiskInputError

TOP = "*"
# Policy hierarchy files live beside the rest of the policy.
POLICY_HIERARCHIES = Path(__file__).resolve().parents[2] / "policies" / "hierarchies"


@dataclass(frozen=True)
class Hierarchy:
    """One attribute's generalisation hierarchy.

    ``rows`` holds one tuple per raw value: ``(value, level1, ..., top)``.
    ``source`` names where it came from, for error messages.
    """

    attribute: str
    rows: tuple[tuple[str, ...], ...]
    source: str = "<built>"
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.rows:
            raise RiskInputError(f"{self.source}: hierarchy for {self.attribute} has no rows")
        height = len(self.rows[0])
        index: dict[str, int] = {}
        for number, row in enumerate(self.rows, start=1):
            if len(row) != height:
                raise RiskInputError(
                    f"{self.source}: row {number} ({row[0]!r}) has {len(row)} levels, row 1 has "
                    f"{height}; every value needs a label at every level"
                )
            if row[0] in index:
                raise RiskInputError(
                    f"{self.source}: row {number} repeats value {row[0]!r} (first at row "
                    f"{index[row[0]] + 1})"
                )
            index[row[0]] = number - 1
        object.__setattr__(self, "_index", index)
        self._check_nesting()

    def _check_nesting(self) -> None:
        for level in range(1, self.height - 1):
            parent: dict[str, tuple[str, int]] = {}
            for number, row in enumerate(self.rows, start=1):
                seen = parent.setdefault(row[level], (row[level + 1], number))
                if seen[0] != row[level + 1]:
                    raise RiskInputError(
                        f"{self.source}: row {number} puts {row[level]!r} (level {level}) "
                        f"under {row[level + 1]!r}, row {seen[1]} under {seen[0]!r}; "
                        "a label must have one parent"
                    )
        tops = {row[-1] for row in self.rows}
        if self.height > 1 and len(tops) > 1:
            raise RiskInputError(
                f"{self.source}: the last level must be one label for every value, found "
                f"{', '.join(sorted(tops)[:5])}"
            )

    @property
    def height(self) -> int:
        """Number of levels, counting the raw values as level 0."""
        return len(self.rows[0])

    @property
    def values(self) -> list[str]:
        return [row[0] for row in self.rows]

    def __contains__(self, value: str) -> bool:
        return value in self._index

    def generalise(self, value: str, level: int) -> str:
        """The label of ``value`` at ``level``."""
        try:
            return self.rows[self._index[value]][level]
        except KeyError:
            raise RiskInputError(
                f"{self.source}: value {value!r} of {self.attribute} is not in its hierarchy"
            ) from None


def load_hierarchy(
    path: str | Path, attribute: str | None = None, *, delimiter: str = ";"
) -> Hierarchy:
    """Read an ARX hierarchy CSV (``value;level1;...;*``, no header).

    The attribute defaults to the file stem after ``_hierarchy_`` (ARX's naming,
    ``adult_hierarchy_age.csv``) or the whole stem.
    """
    path = Path(path)
    if not path.is_file():
        raise RiskInputError(f"{path}: hierarchy file not found")
    if attribute is None:
        attribute = path.stem.split("_hierarchy_")[-1]
    with path.open(newline="", encoding="utf-8") as fh:
        rows = tuple(
            tuple(cell.strip() for cell in row)
            for row in csv.reader(fh, delimiter=delimiter)
            if row
        )
    return Hierarchy(attribute, rows, source=str(path))


def _number(value: str, attribute: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise RiskInputError(
            f"{attribute}: value {value!r} is not a number; an interval hierarchy needs numbers"
        ) from None
    if not math.isfinite(number):
        raise RiskInputError(f"{attribute}: value {value!r} is not a finite number")
    return number


def _band(number: float, width: float, integral: bool) -> str:
    low = math.floor(number / width) * width
    if integral:
        return f"{int(low)}-{int(low + width - 1)}"
    return f"[{low:g}, {low + width:g})"


def interval_hierarchy(attribute: str, values: Iterable[str], widths: Sequence[float]) -> Hierarchy:
    """Bands of growing width for a number (age: ``widths=(5, 10, 20)`` gives 20-24, 20-29, 20-39).

    Each width must divide the next so the bands nest. Whole numbers get inclusive
    labels (``20-24``), others half-open ones (``[20, 25)``).
    """
    widths = list(widths)
    if not widths or any(w <= 0 for w in widths):
        raise RiskInputError(f"{attribute}: interval widths must be positive, not {widths}")
    for small, large in zip(widths, widths[1:], strict=False):
        if large <= small or not math.isclose(large / small, round(large / small)):
            raise RiskInputError(
                f"{attribute}: interval width {large} is not a multiple of {small}; bands must nest"
            )
    distinct = sorted(set(values), key=lambda v: _number(v, attribute))
    integral = all(_number(v, attribute).is_integer() for v in distinct) and all(
        float(w).is_integer() for w in widths
    )
    rows = tuple(
        (v, *(_band(_number(v, attribute), w, integral) for w in widths), TOP) for v in distinct
    )
    return Hierarchy(attribute, rows, source=f"interval hierarchy for {attribute}")


def prefix_hierarchy(attribute: str, values: Iterable[str], lengths: Sequence[int]) -> Hierarchy:
    """Keep fewer leading characters at each level (``lengths`` strictly decreasing)."""
    lengths = list(lengths)
    if any(b >= a for a, b in zip(lengths, lengths[1:], strict=False)) or any(
        n < 1 for n in lengths
    ):
        raise RiskInputError(
            f"{attribute}: prefix lengths must be positive and decreasing, not {lengths}"
        )
    rows = tuple((v, *(v[:n] for n in lengths), TOP) for v in sorted(set(values)))
    return Hierarchy(attribute, rows, source=f"prefix hierarchy for {attribute}")


_POSTCODE = re.compile(r"^([A-Z]{1,2})([0-9][A-Z0-9]?) ?([0-9])([A-Z]{2})$")


def postcode_hierarchy(attribute: str, values: Iterable[str]) -> Hierarchy:
    """UK postcode -> sector (``SW1A 1``) -> district (``SW1A``) -> area (``SW``) -> ``*``.

    A value that is not a postcode is grouped as ``unknown`` at every level rather
    than stopping the release; ingest is where malformed postcodes are reported.
    """
    rows = []
    for value in sorted(set(values)):
        match = _POSTCODE.match(value.strip().upper())
        if match:
            area, district, sector_digit, _unit = match.groups()
            outward = area + district
            rows.append((value, f"{outward} {sector_digit}", outward, area, TOP))
        else:
            rows.append((value, "unknown", "unknown", "unknown", TOP))
    return Hierarchy(attribute, tuple(rows), source=f"postcode hierarchy for {attribute}")


_DATE = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?")
_DATE_LEVELS = {
    "month": lambda y, m: f"{y}-{m:02d}",
    "quarter": lambda y, m: f"{y}-Q{(m - 1) // 3 + 1}",
    "year": lambda y, m: f"{y}",
    "decade": lambda y, m: f"{y // 10 * 10}s",
}


def date_hierarchy(
    attribute: str, values: Iterable[str], levels: Sequence[str] = ("month", "year")
) -> Hierarchy:
    """ISO dates (``2004-05-17``, or timestamps) to coarser periods, e.g. month then year."""
    unknown = [lv for lv in levels if lv not in _DATE_LEVELS]
    if unknown or not levels:
        raise RiskInputError(
            f"{attribute}: date levels must come from {', '.join(_DATE_LEVELS)}, not {list(levels)}"
        )
    rows = []
    for value in sorted(set(values)):
        match = _DATE.match(value)
        if not match:
            raise RiskInputError(f"{attribute}: value {value!r} is not an ISO date (YYYY-MM-DD)")
        year, month = int(match.group(1)), int(match.group(2))
        rows.append((value, *(_DATE_LEVELS[lv](year, month) for lv in levels), TOP))
    return Hierarchy(attribute, tuple(rows), source=f"date hierarchy for {attribute}")


def flat_hierarchy(attribute: str, values: Iterable[str]) -> Hierarchy:
    """Value or nothing: the attribute is either released as is or suppressed (``*``)."""
    rows = tuple((v, TOP) for v in sorted(set(values)))
    return Hierarchy(attribute, rows, source=f"flat hierarchy for {attribute}")


def hierarchy_from_spec(
    attribute: str,
    spec: Mapping[str, Any],
    values: Iterable[str],
    *,
    base_dir: Path = POLICY_HIERARCHIES,
) -> Hierarchy:
    """Build a hierarchy from a policy entry, given the values the column holds.

    Specs: ``{"file": "ethnicity.csv"}`` (relative to ``base_dir``),
    ``{"interval": [5, 10, 20]}``, ``{"prefix": [3, 1]}``, ``{"postcode": true}``,
    ``{"date": ["month", "year"]}``, ``{"flat": true}``.
    """
    kinds = [
        key for key in ("file", "interval", "prefix", "postcode", "date", "flat") if key in spec
    ]
    if len(kinds) != 1:
        raise RiskInputError(
            f"{attribute}: a hierarchy spec names exactly one of file, interval, prefix, "
            f"postcode, date, flat; got {dict(spec)}"
        )
    kind = kinds[0]
    if kind == "file":
        return load_hierarchy(base_dir / spec["file"], attribute)
    if kind == "interval":
        return interval_hierarchy(attribute, values, spec["interval"])
    if kind == "prefix":
        return prefix_hierarchy(attribute, values, spec["prefix"])
    if kind == "postcode":
        return postcode_hierarchy(attribute, values)
    if kind == "date":
        return date_hierarchy(attribute, values, spec["date"])
    return flat_hierarchy(attribute, values)

"""Small-cell suppression: no withheld cell can be recovered from the published totals."""

from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pytest

from steward.risk import RiskInputError, suppress_cells, suppress_count_table


def _determined(table) -> list[tuple[int, int]]:
    """Withheld cells the published table and its additivity pin down exactly.

    Unknowns are the withheld cells; each row and column of the table with margins
    gives one linear equation. A cell is determined when its unit vector lies in the
    row space of those equations restricted to the unknowns.
    """
    hidden = table.suppressed
    cells = list(zip(*np.nonzero(hidden), strict=True))
    if not cells:
        return []
    rows, columns = hidden.shape
    equations = []
    for r in range(rows):
        equations.append({(r, c): 1.0 if c < columns - 1 else -1.0 for c in range(columns)})
    for c in range(columns):
        equations.append({(r, c): 1.0 if r < rows - 1 else -1.0 for r in range(rows)})
    matrix = np.array([[eq.get(cell, 0.0) for cell in cells] for eq in equations])
    rank = np.linalg.matrix_rank(matrix)
    found = []
    for index, cell in enumerate(cells):
        unit = np.zeros(len(cells))
        unit[index] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            found.append((int(cell[0]), int(cell[1])))
    return found


def _every_line_hides_two_or_none(table) -> bool:
    hidden = table.suppressed
    return all(n != 1 for n in hidden.sum(axis=0)) and all(n != 1 for n in hidden.sum(axis=1))


def test_when_only_primary_cells_are_withheld_then_the_check_finds_them_recoverable() -> None:
    table = suppress_cells([[20, 3, 15], [12, 18, 25]], k=5)
    primary_only = replace(table, secondary=np.zeros_like(table.secondary))
    assert _determined(primary_only) == [(0, 1)]
    assert not _every_line_hides_two_or_none(primary_only)


def test_when_one_small_cell_then_cheapest_rectangle_hides_it() -> None:
    table = suppress_cells([[20, 3, 15], [12, 18, 25], [30, 22, 40]], k=5)
    assert list(zip(*np.nonzero(table.primary), strict=True)) == [(0, 1)]
    # Cheapest cycle through (0, 1): 18 + 12 + 20 beats 18 + 25 + 15 and the rest.
    assert sorted(zip(*np.nonzero(table.secondary), strict=True)) == [(0, 0), (1, 0), (1, 1)]
    assert table.published()[0] == [None, None, 15, 38]
    assert table.published()[3] == [62, 43, 80, 185]
    assert _determined(table) == []


def test_when_zero_cells_then_they_are_published_not_suppressed() -> None:
    table = suppress_cells([[0, 12], [9, 14]], k=5)
    assert not table.suppressed.any()


def test_when_a_total_is_small_then_it_is_suppressed_and_protected() -> None:
    table = suppress_cells([[1, 2], [30, 40], [25, 35]], k=5)
    assert table.primary[0, 2]  # row total 3
    assert _determined(table) == []
    assert _every_line_hides_two_or_none(table)


def test_when_single_column_table_then_small_cell_is_hidden_with_the_margins() -> None:
    table = suppress_cells([[2], [40], [33]], k=5)
    assert table.primary[0, 0]
    assert _determined(table) == []
    assert _every_line_hides_two_or_none(table)


@pytest.mark.parametrize("seed", range(25))
def test_when_random_table_suppressed_then_no_withheld_cell_is_recoverable(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(2, 8, size=2))
    counts = rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 30, 80], size=shape)
    table = suppress_cells(counts, k=5)
    inner = table.counts[:-1, :-1]
    assert (table.primary[:-1, :-1] == ((inner > 0) & (inner < 5))).all()
    assert _determined(table) == []
    assert _every_line_hides_two_or_none(table)


def test_when_count_table_read_from_duckdb_then_labels_and_records_follow() -> None:
    con = duckdb.connect()
    con.execute(
        """create table outcomes as select * from (values
          ('Maths', 'pass', 40), ('Maths', 'fail', 3), ('Physics', 'pass', 25),
          ('Physics', 'fail', 11), ('History', 'pass', 31), ('History', 'fail', 8)
        ) v(module, result, students)"""
    )
    table = suppress_count_table(con, "outcomes", "module", "result", k=5, count="students")
    assert table.row_labels == ("History", "Maths", "Physics")
    assert table.column_labels == ("fail", "pass")
    records = {(r["row"], r["column"]): r["count"] for r in table.to_records()}
    assert records[("Maths", "fail")] is None
    assert records[("total", "total")] == 118
    assert _determined(table) == []


def test_when_table_has_negative_counts_then_error() -> None:
    with pytest.raises(RiskInputError, match="non-negative whole numbers"):
        suppress_cells([[1, -2]], k=5)

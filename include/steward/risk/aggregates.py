"""Small-cell suppression for two-way count tables, with secondary suppression.

Primary suppression withholds every count from 1 to k - 1, margins included (a
total is a count of people too). Zero cells are published: a zero is not a person.

Secondary suppression stops a withheld cell being recovered from the totals. With
margins the table's additivity is one equation per row and per column. A withheld
cell can be solved for exactly when it lies on no cycle of withheld cells (rows and
columns as vertices, withheld cells as edges): a row or column holding one withheld
cell is the simplest case. So while some withheld cell is a bridge of that graph, the
cheapest path of further cells that closes a cycle through it is withheld too:
smallest counts first, a zero only when nothing else closes the cycle, a margin last.

Two-way tables only; the search minimises suppressed counts greedily, not optimally.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np

from steward.risk._sql import quote, quote_relation, require_columns
from steward.risk.errors import RiskInputError

# Path costs: a cell's count, zeros and margins far dearer so they come last.
_ZERO_COST = 1e9
_MARGIN_COST = 1e12


@dataclass(frozen=True)
class SuppressedTable:
    """A count table with margins: the last row and column are the totals.

    ``counts`` is (rows + 1) x (columns + 1); ``primary`` and ``secondary`` mark the
    cells withheld and why.
    """

    row_labels: tuple[Any, ...]
    column_labels: tuple[Any, ...]
    counts: np.ndarray
    primary: np.ndarray
    secondary: np.ndarray
    k: int

    @property
    def suppressed(self) -> np.ndarray:
        return self.primary | self.secondary

    def published(self) -> list[list[int | None]]:
        """The table as released, margins included: None where withheld."""
        return [
            [None if hidden else int(value) for value, hidden in zip(row, mask, strict=True)]
            for row, mask in zip(self.counts, self.suppressed, strict=True)
        ]

    def to_records(self) -> list[dict[str, Any]]:
        """Long form: one dict per cell, ``"total"`` labelling the margins."""
        rows = [*self.row_labels, "total"]
        columns = [*self.column_labels, "total"]
        table = self.published()
        return [
            {"row": rows[i], "column": columns[j], "count": table[i][j]}
            for i in range(len(rows))
            for j in range(len(columns))
        ]


def _bridges(edges: list[tuple[int, int]], vertices: int) -> list[tuple[int, int]]:
    """Edges on no cycle (Tarjan's bridge finding; iterative, multigraph-safe)."""
    adjacency: list[list[tuple[int, int]]] = [[] for _ in range(vertices)]
    for number, (u, v) in enumerate(edges):
        adjacency[u].append((v, number))
        adjacency[v].append((u, number))
    order = [-1] * vertices
    low = [0] * vertices
    found: list[tuple[int, int]] = []
    counter = 0
    for root in range(vertices):
        if order[root] != -1 or not adjacency[root]:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack = [(root, -1, iter(adjacency[root]))]
        while stack:
            vertex, via, neighbours = stack[-1]
            advanced = False
            for nxt, number in neighbours:
                if number == via:
                    continue
                if order[nxt] == -1:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, number, iter(adjacency[nxt])))
                    advanced = True
                    break
                low[vertex] = min(low[vertex], order[nxt])
            if not advanced:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[vertex])
                    if low[vertex] > order[parent]:
                        found.append(edges[via])
    return found


def _cheapest_cycle(
    counts: np.ndarray, withheld: np.ndarray, cell: tuple[int, int]
) -> list[tuple[int, int]]:
    """Cells to withhold so that ``cell`` lies on a cycle: a cheapest path in the
    row/column graph from its column back to its row, avoiding the cell itself."""
    rows, columns = counts.shape
    cost = np.where(counts > 0, counts.astype(np.float64), _ZERO_COST)
    cost[-1, :] += _MARGIN_COST
    cost[:, -1] += _MARGIN_COST
    cost[withheld] = 0.0
    # Vertices: rows 0..rows-1, then columns rows..rows+columns-1.
    start, goal = rows + cell[1], cell[0]
    best = {start: 0.0}
    previous: dict[int, int] = {}
    queue = [(0.0, start)]
    while queue:
        distance, vertex = heapq.heappop(queue)
        if vertex == goal:
            break
        if distance > best.get(vertex, np.inf):
            continue
        if vertex >= rows:
            column = vertex - rows
            steps = ((r, (r, column)) for r in range(rows))
        else:
            steps = ((rows + c, (vertex, c)) for c in range(columns))
        for nxt, edge in steps:
            if edge == cell:
                continue
            candidate = distance + cost[edge]
            if candidate < best.get(nxt, np.inf):
                best[nxt] = candidate
                previous[nxt] = vertex
                heapq.heappush(queue, (candidate, nxt))
    if goal not in previous:
        return []
    path, vertex = [], goal
    while vertex != start:
        before = previous[vertex]
        row, column = (vertex, before - rows) if vertex < rows else (before, vertex - rows)
        path.append((row, column))
        vertex = before
    return [edge for edge in path if not withheld[edge]]


def suppress_cells(
    counts: Sequence[Sequence[int]] | np.ndarray,
    *,
    k: int,
    row_labels: Sequence[Any] | None = None,
    column_labels: Sequence[Any] | None = None,
) -> SuppressedTable:
    """Suppress a rows x columns count table (without margins; they are added)."""
    inner = np.asarray(counts)
    if inner.ndim != 2 or inner.size == 0:
        raise RiskInputError(
            f"a count table must be two-dimensional and non-empty, not {inner.shape}"
        )
    if (inner < 0).any() or not np.issubdtype(inner.dtype, np.integer):
        raise RiskInputError("a count table must hold non-negative whole numbers")
    if k < 1:
        raise RiskInputError(f"k must be >= 1, not {k}")
    rows, columns = inner.shape
    table = np.zeros((rows + 1, columns + 1), dtype=np.int64)
    table[:rows, :columns] = inner
    table[:rows, columns] = inner.sum(axis=1)
    table[rows, :columns] = inner.sum(axis=0)
    table[rows, columns] = inner.sum()
    primary = (table > 0) & (table < k)
    withheld = primary.copy()
    while True:
        edges = [(int(r), rows + 1 + int(c)) for r, c in zip(*np.nonzero(withheld), strict=True)]
        bridges = _bridges(edges, rows + columns + 2)
        if not bridges:
            break
        r, c = bridges[0]
        cell = (r, c - rows - 1)
        extra = _cheapest_cycle(table, withheld, cell)
        if not extra:  # nothing can hide it: a 1 x 1 table; withhold everything
            withheld[:] = True
            break
        for edge in extra:
            withheld[edge] = True
    return SuppressedTable(
        row_labels=tuple(row_labels) if row_labels is not None else tuple(range(rows)),
        column_labels=tuple(column_labels) if column_labels is not None else tuple(range(columns)),
        counts=table,
        primary=primary,
        secondary=withheld & ~primary,
        k=k,
    )


def suppress_count_table(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    row: str,
    column: str,
    *,
    k: int,
    count: str | None = None,
) -> SuppressedTable:
    """Cross-tabulate ``relation`` by ``row`` and ``column`` and suppress it.

    Counts records, or sums ``count`` when the relation is already aggregated.
    """
    require_columns(con, relation, [row, column, *([count] if count else [])])
    measure = f"sum({quote(count)})" if count else "count(*)"
    cells = con.execute(
        f"select {quote(row)}, {quote(column)}, {measure}::bigint "
        f"from {quote_relation(relation)} group by all"
    ).fetchall()

    def ordered(values: set) -> list:
        return sorted(values, key=lambda v: (v is None, str(v)))

    row_labels = ordered({c[0] for c in cells})
    column_labels = ordered({c[1] for c in cells})
    row_index = {v: i for i, v in enumerate(row_labels)}
    column_index = {v: i for i, v in enumerate(column_labels)}
    grid = np.zeros((len(row_labels), len(column_labels)), dtype=np.int64)
    for r, c, n in cells:
        grid[row_index[r], column_index[c]] = n
    return suppress_cells(grid, k=k, row_labels=row_labels, column_labels=column_labels)

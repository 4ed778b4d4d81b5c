"""Full-domain generalisation: the least information loss that meets every threshold.

Each quasi-identifier has a hierarchy; a lattice node picks one level per attribute.
The search returns the node with the smallest loss whose release, after withholding
the records of classes that fail k or l (or t), stays within the suppression budget.

Information loss is ARX's non-uniform entropy (de Waal and Willenborg), in bits:
for every record and quasi-identifier, -log2(share of the released label's records
that hold the record's original value); 0 when nothing is generalised. Like ARX's
monotonic variant it counts generalisation only, so it is a sum of per-attribute,
per-level terms computed once. It reproduces ARX's own test optimum on Adult
(407289.5388925293 bits at k = 5 without suppression).

The search (after ARX's Flash and OLA): nodes are visited in order of loss. A node's
status under the monotonic criteria (k, distinct-l and entropy-l with suppression;
t too when there is no suppression budget) is settled by probing a path from the
node to the top of the lattice: a node that fails marks every less general node
failed, one that passes marks every more general node passed. The first visited node
that passes every criterion is optimal, because every cheaper node was shown to
fail. With a suppression budget t is not monotonic (merging a close class with a
distant one can make both distant), so it is checked per node and never prunes.

Nodes are evaluated in NumPy on records grouped once by their original
quasi-identifier and sensitive values (one DuckDB GROUP BY, joined to the
hierarchies): about 1 ms a node on Adult, against about 6 ms for a DuckDB query per
node. The per-class l and t follow the same definitions as the SQL in
:mod:`steward.risk.measures` (the tests hold them equal); the measures before and
after, and the written release, come from that SQL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np

from steward.risk._sql import check_qi_sa, quote, quote_relation, require_columns
from steward.risk.errors import RiskInputError
from steward.risk.hierarchy import Hierarchy, hierarchy_from_spec
from steward.risk.measures import (
    RiskMeasures,
    class_table_sql,
    measure,
    ordered_attributes,
)
from steward.risk.thresholds import TOLERANCE, Thresholds

LOSS_MEASURE = "non-uniform entropy (ARX, monotonic variant), bits"
MAX_LATTICE = 2_000_000
DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class GeneralisationResult:
    """The chosen transformation and what it costs.

    ``levels`` maps each quasi-identifier to its hierarchy level (0 = as recorded).
    ``loss`` is in bits (see module docs); ``loss_normalised`` divides it by the
    loss of generalising everything to the top (0 = nothing lost, 1 = everything).
    When no node passes, ``passed`` is false and ``levels`` is the lattice top.
    """

    passed: bool
    levels: dict[str, int]
    suppressed_rows: int
    loss: float
    loss_normalised: float
    loss_measure: str
    before: RiskMeasures
    after: RiskMeasures
    nodes_checked: int
    lattice_size: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["before"] = self.before.to_dict()
        data["after"] = self.after.to_dict()
        return data


def _group(key: np.ndarray, span: int, weights: np.ndarray):
    """Distinct keys in ascending order, each record's group index, and group weights.

    Counting into an array is faster than sorting when the key space is small.
    """
    if span <= max(4 * len(key), 1 << 16):
        sums = np.bincount(key, weights=weights, minlength=span)
        present = np.flatnonzero(sums)
        rank = np.zeros(span, dtype=np.int64)
        rank[present] = np.arange(len(present))
        return present, rank[key], sums[present]
    distinct, inverse = np.unique(key, return_inverse=True)
    return distinct, inverse, np.bincount(inverse, weights=weights)


class _Sensitive:
    """One sensitive attribute's codes (in value order) and table-wide distribution."""

    def __init__(self, codes: np.ndarray, weights: np.ndarray, ordered: bool) -> None:
        self.codes = codes
        self.size = int(codes.max()) + 1 if len(codes) else 1
        self.share = np.bincount(codes, weights=weights, minlength=self.size) / weights.sum()
        self.ordered = ordered
        self.cumulative = np.cumsum(self.share)
        self.prefix = np.concatenate(([0.0], np.cumsum(self.cumulative)))

    def per_class(
        self, inverse: np.ndarray, sizes: np.ndarray, weights: np.ndarray, l_measure: str
    ) -> tuple[np.ndarray, np.ndarray]:
        """(l, t) of every class; the same definitions as the SQL in measures.py."""
        classes = len(sizes)
        pairs, _, count = _group(inverse * self.size + self.codes, classes * self.size, weights)
        owner, value = pairs // self.size, pairs % self.size
        if l_measure == "distinct":
            diversity = np.bincount(owner, minlength=classes).astype(np.float64)
        else:
            plogp = np.bincount(owner, weights=count * np.log(count), minlength=classes)
            diversity = np.exp(np.log(sizes) - plogp / sizes)
        n = sizes[owner]
        if not self.ordered:
            gap = np.bincount(
                owner, weights=np.abs(count / n - self.share[value]), minlength=classes
            )
            covered = np.bincount(owner, weights=self.share[value], minlength=classes)
            return diversity, 0.5 * (gap + 1 - covered)
        if self.size == 1:
            return diversity, np.zeros(classes)
        # Ordered EMD, segment by segment as in measures.py: the class's cumulative
        # share s is constant on [a, b); sum |s - P_i| there from prefix sums of P.
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        running = np.cumsum(count)
        share = (running - (running - count)[first][owner]) / n
        last = np.r_[first[1:] - 1, len(pairs) - 1]
        upper = np.r_[value[1:], self.size]
        upper[last] = self.size
        cut = np.clip(np.searchsorted(self.cumulative, share, side="right"), value, upper)
        p = self.prefix
        term = (
            share * (cut - value)
            - (p[cut] - p[value])
            + (p[upper] - p[cut])
            - share * (upper - cut)
        )
        distance = np.bincount(owner, weights=term, minlength=classes) + p[value[first]]
        return diversity, distance / (self.size - 1)


class _Encoded:
    """Records grouped by original quasi-identifier and sensitive codes, with weights."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        relation: str,
        hierarchies: Sequence[Hierarchy],
        columns: Sequence[str],
        sa: Sequence[str],
        ordered: Collection[str],
        tables: Sequence[str],
    ) -> None:
        rel = quote_relation(relation)
        joins = " ".join(
            f"join {t} h{i} on cast(r.{quote(c)} as varchar) = h{i}.value"
            for i, (t, c) in enumerate(zip(tables, columns, strict=True))
        )
        sa_ctes = [
            f"sa{j} as (select v, (row_number() over (order by v nulls last) - 1)::integer "
            f"as code from (select distinct {quote(s)} as v from {rel}))"
            for j, s in enumerate(sa)
        ]
        sa_joins = " ".join(
            f"join sa{j} on r.{quote(s)} is not distinct from sa{j}.v" for j, s in enumerate(sa)
        )
        select = [f"h{i}.code as a{i}" for i in range(len(columns))]
        select += [f"sa{j}.code as s{j}" for j in range(len(sa))]
        with_sa = f"with {', '.join(sa_ctes)} " if sa else ""
        arrays = con.execute(
            f"{with_sa}select {', '.join(select)}, count(*) as w from {rel} r {joins} "
            f"{sa_joins} group by all"
        ).fetchnumpy()
        self.weights = np.asarray(arrays["w"], dtype=np.float64)
        self.rows = int(self.weights.sum())
        self.attributes = [np.asarray(arrays[f"a{i}"], dtype=np.int64) for i in range(len(columns))]
        self.sensitive = [
            _Sensitive(np.asarray(arrays[f"s{j}"], dtype=np.int64), self.weights, s in ordered)
            for j, s in enumerate(sa)
        ]
        # Per attribute and level: raw value code -> label code, and label count.
        self.lookup: list[list[np.ndarray]] = []
        self.cards: list[list[int]] = []
        self.loss: list[np.ndarray] = []
        for hierarchy, codes in zip(hierarchies, self.attributes, strict=True):
            levels, cards = [], []
            for level in range(hierarchy.height):
                _, inverse = np.unique([row[level] for row in hierarchy.rows], return_inverse=True)
                levels.append(inverse.astype(np.int64))
                cards.append(int(inverse.max()) + 1)
            self.lookup.append(levels)
            self.cards.append(cards)
            self.loss.append(self._entropy_loss(codes, levels))

    def _entropy_loss(self, codes: np.ndarray, levels: list[np.ndarray]) -> np.ndarray:
        raw_count = np.bincount(codes, weights=self.weights, minlength=len(levels[0]))
        present = raw_count > 0
        losses = []
        for lookup in levels:
            label_count = np.bincount(lookup[codes], weights=self.weights)
            share = raw_count[present] / label_count[lookup[present]]
            losses.append(float(-(raw_count[present] * np.log2(share)).sum()))
        return np.array(losses)

    def classes(self, node: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Class index of every grouped record, and class sizes, at ``node``."""
        key = np.zeros(len(self.weights), dtype=np.int64)
        span = 1
        for attribute, level in enumerate(node):
            card = self.cards[attribute][level]
            if span * card >= 2**62:  # keep the mixed-radix key inside int64
                distinct, key, _ = _group(key, span, self.weights)
                span = len(distinct)
            key = key * card + self.lookup[attribute][level][self.attributes[attribute]]
            span *= card
        _, inverse, sizes = _group(key, span, self.weights)
        return inverse, sizes


class _Search:
    def __init__(self, encoded: _Encoded, thresholds: Thresholds, use_l: bool, use_t: bool) -> None:
        self.encoded = encoded
        self.thresholds = thresholds
        self.use_l, self.use_t = use_l, use_t
        self.budget = thresholds.budget(encoded.rows)
        # Without a suppression budget t is monotonic too and may prune.
        self.t_monotonic = self.budget == 0
        self.heights = np.array([len(c) for c in encoded.cards])
        size = int(np.prod(self.heights))
        if size > MAX_LATTICE:
            raise RiskInputError(
                f"the generalisation lattice has {size:,} nodes (more than {MAX_LATTICE:,}); "
                "use fewer quasi-identifiers or shorter hierarchies"
            )
        self.nodes = np.indices(self.heights).reshape(len(self.heights), -1).T
        self.node_loss = sum(encoded.loss[a][self.nodes[:, a]] for a in range(len(self.heights)))
        self.status = np.zeros(len(self.nodes), dtype=np.int8)  # 1 pass, -1 fail, 0 unknown
        self.checked = self.failures = 0

    def index(self, node: Sequence[int]) -> int:
        return int(np.ravel_multi_index(tuple(node), self.heights))

    def withheld(self, node: Sequence[int]) -> tuple[int, int]:
        """Records in classes failing the monotonic criteria, and failing any criterion."""
        self.checked += 1
        inverse, sizes = self.encoded.classes(node)
        monotonic = sizes < self.thresholds.k
        other = np.zeros_like(monotonic)
        for sensitive in self.encoded.sensitive if (self.use_l or self.use_t) else ():
            diversity, distance = sensitive.per_class(
                inverse, sizes, self.encoded.weights, self.thresholds.l_measure
            )
            if self.use_l:
                monotonic |= diversity < self.thresholds.l - TOLERANCE
            if self.use_t:
                far = distance > self.thresholds.t + TOLERANCE
                if self.t_monotonic:
                    monotonic |= far
                else:
                    other |= far
        return int(round(sizes[monotonic].sum())), int(round(sizes[monotonic | other].sum()))

    def mark(self, node: np.ndarray, passed: bool) -> None:
        if passed:
            self.status[(self.nodes >= node).all(axis=1)] = 1
        else:
            self.status[(self.nodes <= node).all(axis=1)] = -1

    def settle(self, node: np.ndarray) -> int | None:
        """Search up a cheap path from ``node`` until its status is known.

        Returns the records withheld under every criterion when ``node`` itself was
        evaluated, else None.
        """
        chain = [node.copy()]
        current = node.copy()
        losses = self.encoded.loss
        while (current < self.heights - 1).any():
            open_attrs = np.flatnonzero(current < self.heights - 1)
            step = min(open_attrs, key=lambda a: losses[a][current[a] + 1] - losses[a][current[a]])
            current[step] += 1
            chain.append(current.copy())
        known = [self.status[self.index(c)] == 1 for c in chain]
        high = known.index(True) if any(known) else len(chain)
        index = self.index(node)
        while self.status[index] == 0:
            # Probe where the pass/fail boundary is likely: high on the path when most
            # nodes checked so far failed (strict thresholds), low when most passed.
            middle = min(high - 1, int(high * (self.failures + 1) / (self.checked + 2)))
            monotonic, everything = self.withheld(chain[middle])
            passed = monotonic <= self.budget
            self.mark(chain[middle], passed)
            self.failures += not passed
            if passed:
                high = middle
            if middle == 0:
                return everything
        return None

    def search(self) -> np.ndarray | None:
        """The least-loss node meeting every criterion, or None."""
        top = self.heights - 1
        monotonic, _ = self.withheld(top)
        self.mark(top, monotonic <= self.budget)
        failed = np.zeros(len(self.nodes), dtype=bool)  # failed a non-monotonic criterion
        for index in np.lexsort((self.nodes.sum(axis=1), self.node_loss)):
            if self.status[index] == -1 or failed[index]:
                continue
            node = self.nodes[index]
            everything = self.settle(node) if self.status[index] == 0 else None
            if self.status[index] == -1:
                continue
            if not self.use_t or self.t_monotonic:  # every criterion is monotonic
                return node
            if everything is None:
                everything = self.withheld(node)[1]
            if everything <= self.budget:
                return node
            failed[index] = True
        return None


def _hierarchy_table(con: duckdb.DuckDBPyConnection, name: str, hierarchy: Hierarchy) -> None:
    levels = range(hierarchy.height)
    columns = ", ".join(f"unnest(?::varchar[]) as l{level}" for level in levels)
    con.execute(
        f"create or replace temp table {name} as select unnest(?::varchar[]) as value, "
        f"unnest(?::integer[]) as code, {columns}",
        [
            hierarchy.values,
            list(range(len(hierarchy.rows))),
            *([row[level] for row in hierarchy.rows] for level in levels),
        ],
    )


def _resolve_hierarchies(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    hierarchies: Mapping[str, Hierarchy | Mapping[str, Any]],
) -> list[Hierarchy]:
    resolved = []
    for column, entry in hierarchies.items():
        values = [
            r[0]
            for r in con.execute(
                f"select distinct cast({quote(column)} as varchar) from {quote_relation(relation)}"
            ).fetchall()
        ]
        if None in values:
            raise RiskInputError(
                f"{relation}: column {column} has missing (NULL) values; a hierarchy cannot "
                "generalise them: fill them upstream (for example with 'unknown')"
            )
        hierarchy = (
            entry if isinstance(entry, Hierarchy) else hierarchy_from_spec(column, entry, values)
        )
        if hierarchy.height < 2:
            raise RiskInputError(f"{hierarchy.source}: needs at least two levels (value and *)")
        missing = sorted(v for v in values if v not in hierarchy)
        if missing:
            raise RiskInputError(
                f"{relation}: column {column} has {len(missing)} value(s) missing from "
                f"{hierarchy.source}, e.g. {', '.join(map(repr, missing[:5]))}; add them"
            )
        resolved.append(hierarchy)
    return resolved


def generalise(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    hierarchies: Mapping[str, Hierarchy | Mapping[str, Any]],
    sa: Sequence[str] = (),
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
    *,
    output: str | None = None,
    ordered: Collection[str] | None = None,
) -> GeneralisationResult:
    """Find the least-loss generalisation of ``relation`` that meets ``thresholds``.

    ``hierarchies`` maps each quasi-identifier to a :class:`Hierarchy` or a policy spec
    (see :func:`~steward.risk.hierarchy.hierarchy_from_spec`). ``l`` and ``t`` apply
    when ``sa`` names sensitive attributes. With ``output``, the release (quasi-
    identifiers replaced by their labels, suppressed records dropped) is written to
    that table; nothing is written when no node passes.
    """
    started = time.perf_counter()
    qi = list(hierarchies)
    check_qi_sa(qi, sa, relation)
    types = require_columns(con, relation, [*qi, *sa])
    if ordered is None:
        ordered = ordered_attributes(types, sa)
    resolved = _resolve_hierarchies(con, relation, hierarchies)
    use_l = bool(sa) and thresholds.l is not None
    use_t = bool(sa) and thresholds.t is not None
    tag = uuid.uuid4().hex[:8]
    tables = [f"__risk_h{i}_{tag}" for i in range(len(qi))]
    release = _Release(con, relation, qi, sa, tables, thresholds, ordered, use_l, use_t, tag)
    try:
        for name, hierarchy in zip(tables, resolved, strict=True):
            _hierarchy_table(con, name, hierarchy)
        before = measure(con, relation, qi, sa, k=thresholds.k, ordered=ordered)
        encoded = _Encoded(con, relation, resolved, qi, sa, ordered, tables)
        search = _Search(encoded, thresholds, use_l, use_t)
        best = search.search()
        passed = best is not None
        chosen = best if passed else search.heights - 1
        after_relation = release.write(chosen, output if passed else None, suppress=passed)
        after = measure(con, after_relation, qi, sa, k=thresholds.k, ordered=ordered)
        loss = float(search.node_loss[search.index(chosen)])
        top_loss = float(search.node_loss[-1])
        return GeneralisationResult(
            passed=passed,
            levels={c: int(level) for c, level in zip(qi, chosen, strict=True)},
            suppressed_rows=before.rows - after.rows,
            loss=loss,
            loss_normalised=loss / top_loss if top_loss else 0.0,
            loss_measure=LOSS_MEASURE,
            before=before,
            after=after,
            nodes_checked=search.checked,
            lattice_size=len(search.nodes),
            seconds=time.perf_counter() - started,
        )
    finally:
        release.drop()
        for name in tables:
            con.execute(f"drop table if exists {name}")


class _Release:
    """SQL views of ``relation`` at a lattice node, for t checks and the output."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        relation: str,
        qi: Sequence[str],
        sa: Sequence[str],
        tables: Sequence[str],
        thresholds: Thresholds,
        ordered: Collection[str],
        use_l: bool,
        use_t: bool,
        tag: str,
    ) -> None:
        self.con, self.relation, self.qi, self.sa = con, relation, list(qi), list(sa)
        self.tables, self.thresholds, self.ordered = tables, thresholds, ordered
        self.use_l, self.use_t = use_l, use_t
        self.view = f"__risk_node_{tag}"
        self._written: str | None = None

    def _view(self, node: Sequence[int]) -> None:
        replace = ", ".join(
            f"h{i}.l{level} as {quote(c)}"
            for i, (c, level) in enumerate(zip(self.qi, node, strict=True))
        )
        joins = " ".join(
            f"join {t} h{i} on cast(r.{quote(c)} as varchar) = h{i}.value"
            for i, (t, c) in enumerate(zip(self.tables, self.qi, strict=True))
        )
        self.con.execute(
            f"create or replace temp view {self.view} as "
            f"select r.* replace ({replace}) from {quote_relation(self.relation)} r {joins}"
        )

    def _failing(self) -> str:
        """SQL condition on a class table row: the class must be withheld."""
        t = self.thresholds
        parts = [f"n < {t.k}"]
        if self.use_l:
            if t.l_measure == "distinct":
                parts.append(f"ld < {t.l}")
            else:
                parts.append(f"exp(h) < {t.l - TOLERANCE}")
        if self.use_t:
            parts.append(f"t > {t.t + TOLERANCE}")
        return " or ".join(parts)

    def _classes(self) -> str:
        return class_table_sql(self.view, self.qi, self.sa, ordered=self.ordered, exact_ids=True)

    def write(self, node: Sequence[int], output: str | None, *, suppress: bool) -> str:
        """Materialise the release at ``node``; return the relation holding it."""
        self._view(node)
        columns = [f"q{i}" for i in range(len(self.qi))]
        keep = " and ".join(f"v.{quote(c)} = c.{q}" for c, q in zip(self.qi, columns, strict=True))
        condition = f"not ({self._failing()})" if suppress else "true"
        select = (
            f"select v.* from {self.view} v semi join "
            f"(select * from ({self._classes()}) where {condition}) c on {keep}"
        )
        target = output or f"{self.view}_out"
        kind = "table" if output else "temp table"
        self.con.execute(f"create or replace {kind} {quote_relation(target)} as {select}")
        self._written = None if output else target
        return target

    def drop(self) -> None:
        self.con.execute(f"drop view if exists {self.view}")
        if self._written:
            self.con.execute(f"drop table if exists {self._written}")

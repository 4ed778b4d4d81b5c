"""Re-identification risk measures in DuckDB SQL.

One pass groups records into equivalence classes (records sharing every
quasi-identifier value); per sensitive attribute a second group by (class, value)
gives distinct-l, entropy-l and t. Definitions follow pycanon and ARX:

- k: size of the smallest class; records at risk: records in classes smaller than
  the policy k; prosecutor risk of a record: 1 / its class size (average and highest).
- distinct-l: fewest distinct sensitive values in a class; entropy-l:
  exp(smallest class entropy), natural log (pycanon reports its integer part).
- t: largest Earth Mover's Distance between a class's sensitive-value distribution
  and the whole table's. Numeric and temporal attributes use the ordered distance
  (sum of |cumulative differences| / (m - 1), m distinct values), anything else the
  equal distance (half the L1 distance). Several sensitive attributes: the smallest
  l and the largest t over them, per class (pycanon's ``gen=True``).

NULL is one more value, both as quasi-identifier and as sensitive value (last in order).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from steward.risk._sql import check_qi_sa, literal, quote, quote_relation, require_columns
from steward.risk.errors import RiskInputError

# DuckDB types whose values have an order that t-closeness should respect.
_ORDERED_TYPE = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
    r"|FLOAT|DOUBLE|REAL|DECIMAL.*|DATE|TIME.*|TIMESTAMP.*)$"
)


@dataclass(frozen=True)
class RiskMeasures:
    """Measures of one table; the first six fields are the CLI's JSON contract."""

    rows: int
    k: int | None
    l_distinct: int | None
    l_entropy: float | None
    t_closeness: float | None
    records_at_risk: int
    classes: int
    avg_prosecutor_risk: float | None
    max_prosecutor_risk: float | None
    k_threshold: int

    def to_dict(self) -> dict:
        """Plain dict in contract order (rows, k, l_distinct, l_entropy, t_closeness, ...)."""
        return asdict(self)


def ordered_attributes(types: dict[str, str], sa: Sequence[str]) -> set[str]:
    """Sensitive attributes whose DuckDB type is numeric or temporal (ordered distance)."""
    return {s for s in sa if _ORDERED_TYPE.match(types[s].upper())}


def _class_columns(n: int) -> list[str]:
    return [f"q{i}" for i in range(n)]


def _class_id(columns: str) -> str:
    """SQL for a class's 64-bit id (a seam: tests force collisions through it)."""
    return f"hash({columns})"


def _per_sa_sql(j: int, ordered: bool) -> str:
    """CTEs giving one row per class id for sensitive attribute j: ld, h, t."""
    pairs = f"""
pairs_{j} as (select cid, s{j} as v, count(*)::double as c from base group by all),
glob_{j} as (
  select *,
    coalesce(sum(cp) over (order by i rows between unbounded preceding and 1 preceding), 0)
      as sp
  from (
    select v, p, i, sum(p) over (order by i) as cp
    from (
      select v, sum(c) / (select sum(c) from pairs_{j}) as p,
        (row_number() over (order by v nulls last) - 1)::integer as i
      from pairs_{j} group by v
    )
  )
),
m_{j} as (select count(*)::integer as m, sum(cp) as sp_end from glob_{j}),
pc_{j} as (
  select pairs_{j}.cid, pairs_{j}.c, g.i, g.p
  from pairs_{j} join glob_{j} g on pairs_{j}.v is not distinct from g.v
),"""
    if not ordered:
        # Equal distance: EMD = 1/2 sum |q - p|; values absent from the class add p each.
        return (
            pairs
            + f"""
pn_{j} as (select *, sum(c) over (partition by cid) as n from pc_{j}),
cls_{j} as (
  select cid, count(*) as ld, -sum(c / n * ln(c / n)) as h,
    0.5 * (sum(abs(c / n - p)) + 1 - sum(p)) as t
  from pn_{j} group by cid
)"""
        )
    # Ordered distance: sum over the m ordered values of |Q_i - P_i| (cumulative class
    # and table shares). Q is constant between the class's own values, so each segment
    # [a, b) with class share s costs sum |s - P_i|, found from prefix sums of P and the
    # index where P first exceeds s (an ASOF join): no class x value cross product.
    # The window carries only (cid, i, c): its sort is the costliest step. Classes
    # share few distinct shares s, so the ASOF join runs on those alone.
    return (
        pairs
        + f"""
seg_{j} as (
  select cid, c, i as a,
    sum(c) over w as cum,
    sum(c) over (partition by cid) as n,
    lead(i, 1, (select m from m_{j})) over w as b
  from pc_{j}
  window w as (partition by cid order by i rows between unbounded preceding and current row)
),
shares_{j} as (
  select s, coalesce(g.i + 1, 0) as jx, coalesce(g.sp + g.cp, 0) as sp_jx
  from (select distinct cum / n as s from seg_{j}) d
  asof left join glob_{j} g on d.s >= g.cp
),
cut_{j} as (
  select seg_{j}.*, cum / n as s, ga.sp as sp_a,
    coalesce(gb.sp, (select sp_end from m_{j})) as sp_b, sh.jx, sh.sp_jx
  from seg_{j}
  join glob_{j} ga on ga.i = seg_{j}.a
  left join glob_{j} gb on gb.i = seg_{j}.b
  join shares_{j} sh on sh.s = seg_{j}.cum / seg_{j}.n
),
term_{j} as (
  select *,
    greatest(a, least(b, jx)) as jc,
    case when jx < a then sp_a when jx > b then sp_b else sp_jx end as sp_jc
  from cut_{j}
),
cls_{j} as (
  select cid, count(*) as ld, -sum(c / n * ln(c / n)) as h,
    (min(sp_a) + sum(s * (jc - a) - (sp_jc - sp_a) + (sp_b - sp_jc) - s * (b - jc)))
      / greatest((select m from m_{j}) - 1, 1) as t
  from term_{j} group by cid
)"""
    )


def class_table_sql(
    relation: str,
    qi: Sequence[str],
    sa: Sequence[str] = (),
    *,
    ordered: Collection[str] = (),
    exact_ids: bool = False,
) -> str:
    """SQL giving one row per equivalence class of ``relation``.

    Columns: ``q0..`` (the class's quasi-identifier values, in ``qi`` order), ``n``
    (records), ``ld`` (distinct-l), ``h`` (entropy, nats), ``t`` (EMD; the last three
    NULL without sensitive attributes) and ``unique_id`` (false when two classes share
    a hashed id: rerun with ``exact_ids``). ``ordered`` names the sensitive attributes
    measured with the ordered distance.

    Classes are keyed by a 64-bit hash of their quasi-identifiers because DuckDB
    partitions and joins on one integer several times faster than on many strings;
    ``exact_ids`` numbers the classes instead (slower, never collides).
    """
    qnames = _class_columns(len(qi))
    qcols = ", ".join(qnames)
    select = [f"{quote(c)} as {q}" for c, q in zip(qi, qnames, strict=True)]
    select += [f"{quote(s)} as s{j}" for j, s in enumerate(sa)]
    raw = f"select {', '.join(select)} from {quote_relation(relation)}"
    if not sa:
        return (
            f"with base as ({raw}) select {qcols}, count(*) as n, null::bigint as ld, "
            "null::double as h, null::double as t, true as unique_id from base group by all"
        )
    if exact_ids:
        same = " and ".join(f"r.{q} is not distinct from ids.{q}" for q in qnames)
        ctes = [
            f"raw as ({raw})",
            f"ids as (select {qcols}, row_number() over () as cid from raw group by all)",
            f"base as (select r.*, ids.cid from raw r join ids on {same})",
            "classes as (select ids.*, c.n from ids join "
            "(select cid, count(*) as n from base group by cid) c using (cid))",
        ]
    else:
        ctes = [
            f"base as (select *, {_class_id(qcols)} as cid from ({raw}))",
            f"classes as (select *, {_class_id(qcols)} as cid from "
            f"(select {qcols}, count(*) as n from base group by all))",
        ]
    ctes += [_per_sa_sql(j, s in ordered) for j, s in enumerate(sa)]
    if len(sa) == 1:
        stats = "cls_0"
    else:
        union = " union all ".join(f"select * from cls_{j}" for j in range(len(sa)))
        ctes.append(
            f"cls_all as (select cid, min(ld) as ld, min(h) as h, max(t) as t "
            f"from ({union}) group by cid)"
        )
        stats = "cls_all"
    # Classes are grouped by their values, statistics by hashed id: equal counts mean
    # no two classes share an id.
    ctes.append(
        f"ids_ok as (select (select count(*) from classes) = (select count(*) from {stats}) "
        "as unique_id)"
    )
    return (
        f"with {', '.join(ctes)} select {', '.join(f'classes.{q}' for q in qnames)}, "
        f"classes.n, s.ld, s.h, s.t, ids_ok.unique_id "
        f"from classes join {stats} s on classes.cid = s.cid cross join ids_ok"
    )


def summarise_classes(
    con: duckdb.DuckDBPyConnection, classes_sql: str, k: int
) -> RiskMeasures | None:
    """Aggregate a class table (from :func:`class_table_sql`) into measures.

    Returns None when the class ids collided (the caller reruns with exact ids).
    """
    row = con.execute(
        f"""select coalesce(sum(n), 0)::bigint, min(n)::bigint, min(ld)::bigint, exp(min(h)),
          max(t), coalesce(sum(n) filter (where n < {int(k)}), 0)::bigint, count(*),
          coalesce(bool_and(unique_id), true)
        from ({classes_sql})"""
    ).fetchone()
    rows, k_min, ld, le, t, at_risk, classes, unique = row
    if not unique:
        return None
    return RiskMeasures(
        rows=rows,
        k=k_min,
        l_distinct=ld,
        l_entropy=le,
        t_closeness=None if t is None else min(max(t, 0.0), 1.0),
        records_at_risk=at_risk,
        classes=classes,
        avg_prosecutor_risk=classes / rows if rows else None,
        max_prosecutor_risk=1 / k_min if k_min else None,
        k_threshold=k,
    )


def measure(
    con: duckdb.DuckDBPyConnection,
    relation: str,
    qi: Sequence[str],
    sa: Sequence[str] = (),
    *,
    k: int = 10,
    ordered: Collection[str] | None = None,
) -> RiskMeasures:
    """Measure a DuckDB table or view.

    ``k`` is the policy threshold behind ``records_at_risk``. ``ordered`` overrides
    which sensitive attributes use the ordered distance (default: numeric and
    temporal columns, as pycanon and ARX do).
    """
    check_qi_sa(qi, sa, relation)
    types = require_columns(con, relation, [*qi, *sa])
    if ordered is None:
        ordered = ordered_attributes(types, sa)
    measures = summarise_classes(con, class_table_sql(relation, qi, sa, ordered=ordered), k)
    if measures is None:  # two classes hashed alike: number them instead
        exact = class_table_sql(relation, qi, sa, ordered=ordered, exact_ids=True)
        measures = summarise_classes(con, exact, k)
    return measures


def _kind(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(12)
    if head[:4] == b"PAR1":
        return "parquet"
    if head[8:12] == b"DUCK":
        return "duckdb"
    return "csv"


def open_source(
    path: str | Path,
    *,
    table: str | None = None,
    delimiter: str | None = None,
) -> tuple[duckdb.DuckDBPyConnection, str]:
    """Open a CSV (delimiter sniffed unless given), Parquet or DuckDB database file.

    Returns a connection and the name of a relation in it holding the data.
    """
    path = Path(path)
    if not path.is_file():
        raise RiskInputError(f"{path}: file not found")
    kind = _kind(path)
    if kind == "duckdb":
        con = duckdb.connect(str(path), read_only=True)
        tables = [
            r[0]
            for r in con.execute(
                "select distinct table_name from information_schema.tables order by 1"
            ).fetchall()
        ]
        if table is None:
            con.close()
            raise RiskInputError(
                f"{path}: is a DuckDB database; name the table to measure (one of: "
                f"{', '.join(tables) or 'none'})"
            )
        if table.split(".")[-1] not in tables:
            con.close()
            raise RiskInputError(
                f"{path}: no table {table!r}; the tables are {', '.join(tables) or 'none'}"
            )
        return con, table
    if table is not None:
        raise RiskInputError(f"{path}: is a {kind.upper()} file, not a DuckDB database; drop table")
    con = duckdb.connect()
    if kind == "parquet":
        reader = f"read_parquet({literal(str(path))})"
    else:
        options = f", delim = {literal(delimiter)}" if delimiter else ""
        reader = f"read_csv({literal(str(path))}, header = true{options})"
    try:
        con.execute(f"create view source as select * from {reader}")
        con.execute("select * from source limit 0")
    except duckdb.Error as exc:
        con.close()
        raise RiskInputError(f"{path}: cannot read as {kind.upper()}: {exc}") from exc
    return con, "source"


def measure_source(
    path: str,
    qi: list[str],
    sa: list[str],
    *,
    k: int = 10,
    table: str | None = None,
    delimiter: str | None = None,
) -> dict:
    """Measure a file for ``steward risk measure``: the JSON contract as a dict.

    CSV (any delimiter, sniffed), Parquet, or a DuckDB database file (``table``
    required). Raises :class:`RiskInputError` naming the file and field on bad input.
    """
    if k < 1:
        raise RiskInputError(f"{path}: k must be >= 1, not {k}")
    con, relation = open_source(path, table=table, delimiter=delimiter)
    try:
        check_qi_sa(qi, sa, str(path))
        require_columns(con, relation, [*qi, *sa], where=str(path))
        return measure(con, relation, qi, sa, k=k).to_dict()
    finally:
        con.close()

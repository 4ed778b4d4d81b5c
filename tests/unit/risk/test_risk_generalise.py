"""Lattice search against ARX's own Adult optima, and the thresholds it must meet."""

from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pytest

from steward.risk import (
    RiskInputError,
    Thresholds,
    generalise,
    interval_hierarchy,
    measure,
)
from steward.risk.generalise import _Encoded, _hierarchy_table
from steward.risk.measures import class_table_sql

# ARX's TestAnonymizationKAnonymity cases for adult.csv with the non-uniform entropy
# metric: (k, suppression limit, optimal transformation, optimal information loss).
# The transformation lists levels in adult.csv's column order.
ARX_OPTIMA = [
    (5, 0.0, [1, 2, 1, 1, 3, 2, 2, 1, 1], 407289.5388925293),
    (5, 0.04, [1, 0, 1, 1, 3, 2, 2, 0, 1], 255559.85455731067),
    (100, 0.0, [0, 4, 1, 1, 3, 2, 2, 1, 1], 453196.8932458743),
    (100, 0.04, [1, 1, 1, 1, 3, 2, 2, 1, 1], 379417.3460570988),
]


def _view_at(con, hierarchies, levels, name: str, keep: tuple[str, ...] = ()) -> None:
    """Adult generalised to ``levels`` by a plain CASE per column: independent of generalise."""
    columns = []
    for (column, hierarchy), level in zip(hierarchies.items(), levels, strict=True):
        cases = " ".join(f"when '{row[0]}' then '{row[level]}'" for row in hierarchy.rows)
        columns.append(f'case "{column}" {cases} end as "{column}"')
    columns += [f'"{column}"' for column in keep]
    con.execute(f"create or replace temp view {name} as select {', '.join(columns)} from adult")


@pytest.mark.parametrize(("k", "suppression", "levels", "loss"), ARX_OPTIMA)
def test_when_adult_searched_like_arx_then_arxs_optimum_is_found(
    adult, adult_hierarchies, k, suppression, levels, loss
) -> None:
    result = generalise(
        adult,
        "adult",
        adult_hierarchies,
        thresholds=Thresholds(k=k, l=None, t=None, suppression=suppression),
    )
    assert result.passed
    assert list(result.levels.values()) == levels
    assert result.loss == pytest.approx(loss, rel=1e-12)
    assert result.after.k >= k
    assert result.suppressed_rows <= suppression * 30162


def test_when_adult_at_arxs_k5_optimum_then_smallest_class_is_exactly_5(
    adult, adult_hierarchies
) -> None:
    _view_at(adult, adult_hierarchies, ARX_OPTIMA[0][2], "adult_arx_k5")
    assert measure(adult, "adult_arx_k5", list(adult_hierarchies)).k == 5


def test_when_any_level_of_the_k5_optimum_is_lowered_then_k5_fails(
    adult, adult_hierarchies
) -> None:
    levels = ARX_OPTIMA[0][2]
    lowered = [
        [level - (i == j) for j, level in enumerate(levels)]
        for i in range(len(levels))
        if levels[i]
    ]
    for number, node in enumerate(lowered):
        _view_at(adult, adult_hierarchies, node, f"adult_lower_{number}")
        assert measure(adult, f"adult_lower_{number}", list(adult_hierarchies)).k < 5, node


def test_when_8_quasi_identifiers_then_release_meets_k5_and_is_written(
    adult, adult_hierarchies
) -> None:
    qi = {c: h for c, h in adult_hierarchies.items() if c != "salary-class"}
    result = generalise(
        adult,
        "adult",
        qi,
        ["salary-class"],
        Thresholds(k=5, l=None, t=None, suppression=0.0),
        output="adult_release",
    )
    assert result.passed
    assert result.lattice_size == 2 * 5 * 2 * 3 * 4 * 3 * 3 * 3
    written = measure(adult, "adult_release", list(qi), ["salary-class"], k=5)
    assert written.k == 5
    assert written.rows == 30162 - result.suppressed_rows
    assert written == result.after
    assert 0 < result.loss_normalised < 1


def test_when_l_and_t_required_then_release_meets_them_within_budget(
    adult, adult_hierarchies
) -> None:
    qi = {c: h for c, h in adult_hierarchies.items() if c != "salary-class"}
    thresholds = Thresholds(k=5, l=2, t=0.2, suppression=0.02)
    result = generalise(adult, "adult", qi, ["salary-class"], thresholds)
    assert result.passed
    assert result.after.k >= 5
    assert result.after.l_distinct >= 2
    assert result.after.t_closeness <= 0.2
    assert result.suppressed_rows <= thresholds.budget(30162)
    assert thresholds.failures(result.after.to_dict()) == []


def test_when_searched_then_no_cheaper_node_meets_the_thresholds(adult, adult_hierarchies) -> None:
    """Brute force over a 2 x 5 x 4 lattice with l, t (not monotonic here) and a budget."""
    qi = {c: adult_hierarchies[c] for c in ["sex", "age", "education"]}
    thresholds = Thresholds(k=20, l=2, t=0.2, suppression=0.05)
    result = generalise(adult, "adult", qi, ["salary-class"], thresholds)
    level_loss = {
        (column, level): _level_loss(adult, column, hierarchy, level)
        for column, hierarchy in qi.items()
        for level in range(hierarchy.height)
    }
    cheaper_passing = []
    for node in itertools.product(*(range(h.height) for h in qi.values())):
        loss = sum(level_loss[c, level] for c, level in zip(qi, node, strict=True))
        if loss >= result.loss - 1e-6:
            continue
        _view_at(adult, qi, node, "adult_node", keep=("salary-class",))
        classes = class_table_sql("adult_node", list(qi), ["salary-class"], exact_ids=True)
        withheld = adult.execute(
            f"select coalesce(sum(n) filter (where n < 20 or ld < 2 or t > 0.2), 0) "
            f"from ({classes})"
        ).fetchone()[0]
        if withheld <= thresholds.budget(30162):
            cheaper_passing.append(node)
    assert result.passed
    assert result.suppressed_rows > 0
    assert cheaper_passing == []


def _level_loss(con, column, hierarchy, level) -> float:
    """Non-uniform entropy of one column at one level, in SQL."""
    cases = " ".join(f"when '{row[0]}' then '{row[level]}'" for row in hierarchy.rows)
    return con.execute(
        f"""with g as (select "{column}" as v, case "{column}" {cases} end as label from adult),
        counted as (select count(*) over (partition by v) as nv,
                           count(*) over (partition by label) as nl from g)
        select -sum(log2(nv / nl)) from counted"""
    ).fetchone()[0]


def test_when_search_counts_classes_then_numpy_l_and_t_equal_the_sql(
    adult_dir, adult_hierarchies
) -> None:
    """The search's per-class l and t (NumPy) against measures.py (SQL), ordered too."""
    con = duckdb.connect()
    con.execute(
        'create table a as select sex, race, education, age, "salary-class" as salary '
        "from read_csv(?, delim = ';', header = true)",
        [str(adult_dir / "adult.csv")],
    )
    qi = {c: adult_hierarchies[c] for c in ["sex", "race", "education"]}
    tables = [f"h{i}" for i in range(len(qi))]
    for name, hierarchy in zip(tables, qi.values(), strict=True):
        _hierarchy_table(con, name, hierarchy)
    for sa in (["age"], ["salary"], ["salary", "age"]):
        sql = measure(con, "a", list(qi), sa)
        encoded = _Encoded(con, "a", list(qi.values()), list(qi), sa, {"age"}, tables)
        inverse, sizes = encoded.classes([0, 0, 0])
        for l_measure, expected_l in (("distinct", sql.l_distinct), ("entropy", sql.l_entropy)):
            per_class = [
                s.per_class(inverse, sizes, encoded.weights, l_measure) for s in encoded.sensitive
            ]
            smallest_l = np.min([diversity for diversity, _ in per_class], axis=0).min()
            largest_t = np.max([distance for _, distance in per_class], axis=0).max()
            assert smallest_l == pytest.approx(expected_l, rel=1e-9), (sa, l_measure)
            assert largest_t == pytest.approx(sql.t_closeness, rel=1e-9), sa
        assert sizes.min() == sql.k


def test_when_k_exceeds_rows_then_no_release_passes(adult, adult_hierarchies) -> None:
    qi = {c: adult_hierarchies[c] for c in ["sex", "race"]}
    result = generalise(
        adult, "adult", qi, thresholds=Thresholds(k=40000, l=None, t=None), output="never_written"
    )
    assert not result.passed
    assert result.levels == {"sex": 1, "race": 1}
    assert (
        adult.execute(
            "select count(*) from information_schema.tables where table_name = 'never_written'"
        ).fetchone()[0]
        == 0
    )


def test_when_value_missing_from_hierarchy_then_error_names_column_and_value() -> None:
    con = duckdb.connect()
    con.execute("create table t as select * from (values (17), (30), (99)) v(age)")
    age = interval_hierarchy("age", ["17", "30"], [10])
    with pytest.raises(RiskInputError, match=r"t: column age has 1 value\(s\) missing .* '99'"):
        generalise(con, "t", {"age": age}, thresholds=Thresholds(k=1, l=None, t=None))


def test_when_quasi_identifier_has_nulls_then_error_says_fill_them() -> None:
    con = duckdb.connect()
    con.execute("create table t as select * from (values (17), (null)) v(age)")
    with pytest.raises(RiskInputError, match=r"column age has missing \(NULL\) values"):
        generalise(con, "t", {"age": {"interval": [10]}}, thresholds=Thresholds(k=1))


def test_when_policy_specs_given_then_hierarchies_are_built_from_the_data() -> None:
    con = duckdb.connect()
    con.execute(
        "create table s as select (17 + i % 40) as age, ['31', '10', '22'][1 + i % 3] as "
        "ethnicity, ['pass', 'fail'][1 + i % 2] as outcome from range(600) r(i)"
    )
    result = generalise(
        con,
        "s",
        {"age": {"interval": [5, 10, 20]}, "ethnicity": {"file": "ethnicity.csv"}},
        ["outcome"],
        Thresholds(k=10, l=2, t=None, suppression=0.0),
    )
    assert result.passed
    assert result.after.k >= 10
    assert result.after.l_distinct >= 2
    assert result.levels["age"] >= 1

"""Feature frames read from the warehouse, and the canonical feature vector and its hash."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import duckdb
import numpy as np
import orjson
import pandas as pd

from steward.model.policy import ModelPolicy

FEATURES_TABLE = "marts.fct_student_week_features"
COHORT_TABLE = "marts.fct_intervention_cohort"
KEYS = ("student_week_key", "student_pseudonym", "module_instance_id", "week_number")


def _numeric(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Every feature as float64 (booleans 0/1, codes sent as text parsed, null -> NaN)."""
    for column in columns:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def labelled(con: duckdb.DuckDBPyConnection, policy: ModelPolicy) -> pd.DataFrame:
    """Student-weeks of ended presentations in the policy's weeks, with the label, the
    presentation's academic year and the module: the training and validation rows. The
    week's start date groups a student's enrolments in the same week (`context`)."""
    features = ", ".join(f"f.{c}" for c in policy.candidate_features if c != "week_number")
    frame = con.execute(
        f"""
        select f.student_week_key, f.student_pseudonym, f.module_instance_id, f.week_number,
               f.week_start_date, {features}, f.{policy.label}::integer as label,
               m.academic_year, m.module_id
        from {FEATURES_TABLE} as f
        inner join marts.dim_modules as m on f.module_instance_id = m.module_instance_id
        where f.{policy.label} is not null and f.week_number between ? and ?
        order by f.student_week_key
        """,
        [policy.first_week, policy.last_week],
    ).df()
    return _numeric(frame, policy.candidate_features)


def current_week(con: duckdb.DuckDBPyConnection, policy: ModelPolicy) -> pd.DataFrame:
    """The current week of every enrolment on a running presentation, with its module:
    who gets scored."""
    features = ", ".join(f"f.{c}" for c in policy.candidate_features if c not in KEYS)
    frame = con.execute(
        f"""
        select f.student_week_key, f.student_pseudonym, f.module_instance_id, f.week_number,
               f.week_start_date, {features}, m.module_id
        from {FEATURES_TABLE} as f
        inner join marts.dim_modules as m on f.module_instance_id = m.module_instance_id
        where f.is_current_week
        order by f.student_week_key
        """
    ).df()
    return _numeric(frame, policy.candidate_features)


def snapshot_id(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A fingerprint of the training data (rows, keys, features, labels), recorded with
    every model so the data it saw can be identified later."""
    digest = hashlib.sha256()
    digest.update(",".join(columns).encode())
    digest.update(pd.util.hash_pandas_object(frame[list(columns)], index=False).values.tobytes())
    return f"{len(frame)}-{digest.hexdigest()[:16]}"


def feature_hash(names: Sequence[str], values: Sequence[float | None]) -> str:
    """sha256 of the canonical feature vector (names and values, in the model's order,
    as compact JSON with shortest round-trip floats, a missing value as null)."""
    payload = orjson.dumps({"features": list(names), "values": list(values)})
    return hashlib.sha256(payload).hexdigest()


def feature_hashes(names: Sequence[str], x: np.ndarray) -> list[str]:
    """`feature_hash` of every row of `x`, NaN as null: the same bytes, from one JSON
    serialisation of the whole matrix rather than one per row."""
    if not len(x):
        return []
    head = b'{"features":' + orjson.dumps(list(names)) + b',"values":['
    # orjson writes a float64 array's values as it writes Python floats, NaN as null; the
    # rows hold only numbers and nulls, so "],[" separates them.
    body = orjson.dumps(np.ascontiguousarray(x, dtype="float64"), option=orjson.OPT_SERIALIZE_NUMPY)
    sha256 = hashlib.sha256
    return [sha256(head + row + b"]}").hexdigest() for row in body[2:-2].split(b"],[")]


def matrix(records: Sequence[Sequence[float | None]]) -> np.ndarray:
    """Canonical vectors back to the float matrix the model reads."""
    return np.array([[np.nan if v is None else v for v in row] for row in records], dtype=float)

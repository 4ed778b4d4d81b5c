"""Land extracts in the identified zone: detect the format, validate every record against
the canonical contract, load the valid ones and quarantine the rest with file, line, field
and reason. One transaction per file, so a load that fails half way leaves no rows; a file
whose content was loaded before is skipped. Rows in = rows loaded + rows quarantined.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb

from steward import audit, contracts, digests, sources, stores
from steward.contracts import Column, Table
from steward.requests import schema as request_tables
from steward.requests import suppression
from steward.sources.base import Adapter, UnknownFormatError

LEDGER = """
create table if not exists raw.loaded_files (
    file_hash varchar primary key,
    source_file varchar not null,
    format varchar not null,
    rows_in bigint not null,
    rows_loaded bigint not null,
    rows_quarantined bigint not null,
    run_id varchar not null,
    loaded_at timestamptz not null
)"""

QUARANTINE = """
create table if not exists raw.quarantine (
    source_file varchar not null,
    file_hash varchar not null,
    line bigint not null,
    target_table varchar,
    field varchar not null,
    reason varchar not null,
    record varchar,
    run_id varchar not null,
    quarantined_at timestamptz not null
)"""


@dataclass
class FileResult:
    file: str
    format: str
    status: str  # loaded, already_loaded, unrecognised
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    reasons: Counter = field(default_factory=Counter)  # "field: reason" -> rows, no values

    def line(self) -> str:
        if self.status == "already_loaded":
            return f"{self.file}: already loaded, skipped"
        if self.status == "unrecognised":
            return f"{self.file}: unrecognised format, whole file quarantined"
        text = (
            f"{self.file} [{self.format}]: {self.rows_in:,} in, {self.rows_loaded:,} loaded, "
            f"{self.rows_quarantined:,} quarantined"
        )
        if self.reasons:
            top = "; ".join(f"{reason} x{n:,}" for reason, n in self.reasons.most_common(3))
            text += f" ({top})"
        return text


@dataclass
class IngestSummary:
    run_id: str
    files: list[FileResult]

    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "files_loaded": sum(f.status == "loaded" for f in self.files),
            "files_skipped": sum(f.status == "already_loaded" for f in self.files),
            "files_unrecognised": sum(f.status == "unrecognised" for f in self.files),
            "rows_in": sum(f.rows_in for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_quarantined": sum(f.rows_quarantined for f in self.files),
        }


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Canonical raw tables, the quarantine and the load ledger (idempotent)."""
    con.execute("create schema if not exists raw")
    for table in contracts.TABLES.values():
        columns = ", ".join(f"{c.name} {c.type}" for c in table.columns)
        con.execute(
            f"create table if not exists raw.{table.name} ({columns}, _source_file varchar, "
            f"_file_hash varchar, _line bigint, _loaded_at timestamptz)"
        )
    con.execute(QUARANTINE)
    con.execute(LEDGER)
    request_tables.create(con)  # corrections (a dbt source) and erasure suppressions


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _derived(col: Column) -> dict[str, dict[str, str]]:
    """Values the rules and the load share, computed once per row (see `_check`): the
    trimmed text, the typed value loaded, and where a rule needs them the number and the
    moment the text reads as. Two levels, since the later ones read the trimmed text."""
    t = f"_t_{col.name}"
    later = {f"_c_{col.name}": f"try_cast(nullif({t}, '') as {col.type})"}
    numeric = col.type in {"SMALLINT", "INTEGER", "BIGINT", "DOUBLE"}
    if numeric or col.min is not None or col.max is not None:
        later[f"_d_{col.name}"] = f"try_cast({t} as double)"
    if col.past:
        # A timestamp's typed value is its moment: the same expression, which DuckDB
        # computes once (the check of 500,000 statements: 1.60 s parsing twice, 1.49 s once).
        typed = later[f"_c_{col.name}"]
        later[f"_m_{col.name}"] = (
            typed if col.type == "TIMESTAMPTZ" else f"try_cast({t} as timestamptz)"
        )
    return {"trimmed": {t: f"trim({col.name})"}, "later": later}


def _checks(table: Table, col: Column, siblings: frozenset[str] = frozenset()) -> list[str]:
    """SQL expressions giving 'column|reason' when the value breaks a rule, else NULL.
    They read the row's `_derived` values as `s._t_<column>` (trimmed text), `s._c_`
    (typed), `s._d_` (as a double) and `s._m_` (as a moment).

    `siblings` are the other tables this file loads: a reference is also met by the same
    line's row for the referenced table, since a line loads or is quarantined whole.
    """
    v, name = f"s.{col.name}", col.name
    t, typed, number_read, moment = (f"s._{x}_{name}" for x in "tcdm")
    present = f"nullif({t}, '') is not null"
    out = []
    if col.required:
        out.append(f"case when not ({present}) then '{name}|required value missing' end")
    if col.type != "VARCHAR":
        invalid = f"{typed} is null"  # when present, the same as casting the trimmed text
        if col.type in {"SMALLINT", "INTEGER", "BIGINT"}:
            # DuckDB rounds '1.5' and reads '0x10' as integers: a count must be written whole
            invalid += f" or {typed} is distinct from {number_read}"
        out.append(
            f"case when {present} and ({invalid}) then '{name}|not a valid {col.type.lower()}' end"
        )
    if col.max_length:
        out.append(
            f"case when length({v}) > {col.max_length} "
            f"then '{name}|longer than {col.max_length} characters' end"
        )
    accepted = col.accepted()
    if accepted:
        listed = ", ".join(_quote(a) for a in accepted)
        where = f"code list {col.codes}" if col.codes else "the accepted values"
        out.append(
            f"case when {present} and {t} not in ({listed}) then '{name}|not in {where}' end"
        )
    # NaN compares above every number in DuckDB: name it instead of calling it too large.
    number = f"nullif({number_read}, 'NaN'::double)"
    if col.type == "DOUBLE":
        out.append(f"case when isnan({number_read}) then '{name}|not a number' end")
    if col.min is not None:
        out.append(
            f"case when {number} < {col.min} then '{name}|below the minimum {col.min:g}' end"
        )
    if col.max is not None:
        out.append(
            f"case when {number} > {col.max} then '{name}|above the maximum {col.max:g}' end"
        )
    if col.past:
        out.append(
            f"case when {moment} > now() then '{name}|in the future' "
            f"when {moment} < timestamptz '1900-01-01' then '{name}|before 1900' end"
        )
    if col.ref:
        ref_table, ref_col = col.ref.split(".")
        same_line = (
            f"and not exists (select 1 from stage_{ref_table} r "
            f"where r._line = s._line and trim(r.{ref_col}) = {t}) "
            if ref_table in siblings
            else ""
        )
        out.append(
            f"case when {present} and not exists (select 1 from raw.{ref_table} r "
            f"where r.{ref_col} = {t}) {same_line}"
            f"then '{name}|unknown {ref_table.rstrip('s').replace('_', ' ')}' end"
        )
    if table.unique == col.name:
        # the lines `_repeats` found, so the rule needs no window and no lookup per line
        out.append(
            f"case when s._line in (select _line from repeats_{table.name}) "
            f"then '{name}|duplicate of an earlier line in this file' "
            f"when s._line in (select _line from reloaded_{table.name}) "
            f"then '{name}|duplicate of a record already loaded' end"
        )
    return out


def _repeats(con: duckdb.DuckDBPyConnection, table: Table, stage: str) -> list[str]:
    """Temp tables of the stage's lines whose unique key (trimmed, present) repeats an
    earlier line of the file (`repeats_<table>`) or a record already loaded
    (`reloaded_<table>`). Only keys seen more than once are ranked, and the loaded table
    is probed with the file's keys, not looked up once per line."""
    key, name = table.unique, table.name
    con.execute(
        f"""create or replace temp table keys_{name} as
        select _line, trim({key}) as k from {stage} where nullif(trim({key}), '') is not null"""
    )
    con.execute(
        f"""create or replace temp table repeats_{name} as
        select _line from (
            select _line, row_number() over (partition by k order by _line) as n
            from keys_{name}
            where k in (select k from keys_{name} group by k having count(*) > 1)
        ) where n > 1"""
    )
    con.execute(
        f"""create or replace temp table reloaded_{name} as
        select _line from keys_{name} where k in (select {key} from raw.{name})"""
    )
    return [f"keys_{name}", f"repeats_{name}", f"reloaded_{name}"]


def _stage(con: duckdb.DuckDBPyConnection, table: Table) -> str:
    stage = f"stage_{table.name}"
    columns = ", ".join(f"{c} varchar" for c in table.column_names)
    con.execute(f"create or replace temp table {stage} (_line bigint, {columns}, _error varchar)")
    return stage


def _with_derived(columns: Iterable[Column], source: str) -> tuple[str, list[str]]:
    """`source` (a table or a subquery) with every column's `_derived` values added, as a
    subquery; and the names of the scratch values (all but the typed ones)."""
    derived = [_derived(col) for col in columns]
    trimmed = {k: e for d in derived for k, e in d["trimmed"].items()}
    later = {k: e for d in derived for k, e in d["later"].items()}
    scratch = [*trimmed, *(k for k in later if not k.startswith("_c_"))]
    sql = (
        f"(select *, {', '.join(f'{e} as {k}' for k, e in later.items())} "
        f"from (select *, {', '.join(f'{e} as {k}' for k, e in trimmed.items())} from {source}))"
    )
    return sql, scratch


def _check(
    con: duckdb.DuckDBPyConnection, table: Table, stage: str, siblings: frozenset[str]
) -> str:
    checked = f"checked_{table.name}"
    helpers = _repeats(con, table, stage) if table.unique else []
    rules = [rule for col in table.columns for rule in _checks(table, col, siblings)]
    rows, scratch = _with_derived(table.columns, stage)
    con.execute(
        f"""create or replace temp table {checked} as
        select s.* exclude ({", ".join(scratch)}), case when s._error is not null
            then [if(contains(s._error, '|'), s._error, '*|' || s._error)]
            else list_filter([{", ".join(rules)}], lambda x: x is not null) end as _errors
        from {rows} s"""
    )
    for helper in helpers:
        con.execute(f"drop table {helper}")
    return checked


def value_problems(
    con: duckdb.DuckDBPyConnection, table: Table, column: Column, value: str
) -> list[str]:
    """What the contract's rules for `column` find wrong with one `value`, as ingest
    would say it ('column: reason'); uniqueness, a property of a whole file, is not judged."""
    rules = _checks(replace(table, unique=None), column)
    if not rules:
        return []
    rows, _ = _with_derived([column], f"(select ?::varchar as {column.name})")
    (errors,) = con.execute(
        f"select list_filter([{', '.join(rules)}], lambda x: x is not null) from {rows} s",
        [value],
    ).fetchone()
    return [e.replace("|", ": ", 1) for e in errors]


T = TypeVar("T")
_END = object()


def read_ahead(items: Iterable[T]) -> Iterator[T]:
    """`items`, each produced in a thread while the caller works on the one before: the
    next chunk is framed (Python and numpy) and the next file hashed while DuckDB, which
    lets other threads run, loads this one. At most one item is read ahead."""
    iterator = iter(items)
    with ThreadPoolExecutor(max_workers=1) as thread:
        ahead = thread.submit(next, iterator, _END)
        while (item := ahead.result()) is not _END:
            ahead = thread.submit(next, iterator, _END)
            yield item


def _load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    adapter: Adapter,
    delimiter: str,
    digest: str,
    run_id: str,
) -> FileResult:
    result = FileResult(str(path), adapter.name, "loaded")
    now = datetime.now(UTC)
    targets = [contracts.table(name) for name in adapter.targets]
    stages = {t.name: _stage(con, t) for t in targets}
    problems = []
    for chunk in read_ahead(sources.frame(path, adapter, delimiter, columnar=True)):
        problems.extend(chunk.problems)
        result.rows_in += len(chunk.lines) + len(chunk.problems)
        if not chunk.lines:
            continue
        rows = sources.chunk_relation(con, adapter, chunk)
        for target, sql in adapter.targets.items():
            rows.query("src", f"insert into {stages[target]} by name {sql}")

    lineage = [str(path), digest]
    names = frozenset(stages)
    checked = {t.name: _check(con, t, stages[t.name], names - {t.name}) for t in targets}
    suppression.apply(con, checked)  # an erased student's rows are quarantined, blank
    con.execute("create or replace temp table bad_lines (_line bigint)")
    for name, table_name in checked.items():
        con.execute(f"insert into bad_lines select _line from {table_name} where len(_errors) > 0")
        columns = ", ".join(f"'{c}', {c}" for c in contracts.table(name).column_names)
        con.execute(
            f"""insert into raw.quarantine
            select ?, ?, _line, '{name}', split_part(e, '|', 1), split_part(e, '|', 2),
                json_object({columns})::varchar, ?, ?
            from (select *, unnest(_errors) as e from {table_name} where len(_errors) > 0)""",
            [*lineage, run_id, now],
        )
    for p in problems:
        con.execute(
            "insert into raw.quarantine values (?, ?, ?, null, ?, ?, ?, ?, ?)",
            [*lineage, p.line, p.field, p.reason, p.record, run_id, now],
        )
    con.execute("create or replace temp table bad_set as select distinct _line from bad_lines")
    bad = con.execute("select count(*) from bad_set").fetchone()[0]
    result.rows_quarantined = bad + len(problems)
    result.rows_loaded = result.rows_in - result.rows_quarantined
    for table in targets:
        typed = ", ".join(f"_c_{name}" for name in table.column_names)  # see `_derived`
        inserted = con.execute(
            f"""insert into raw.{table.name}
            select {typed}, ?, ?, c._line, ? from {checked[table.name]} c
            anti join bad_set b on b._line = c._line""",
            [*lineage, now],
        ).fetchone()[0]
        if inserted != result.rows_loaded:
            raise RuntimeError(
                f"{path}: accounting mismatch for raw.{table.name}: {inserted} rows inserted, "
                f"{result.rows_loaded} expected"
            )
    for checked_table in checked.values():
        rows = con.execute(
            f"select e, count(*) from (select unnest(_errors) as e from {checked_table}) group by e"
        ).fetchall()
        result.reasons.update({e.replace("|", ": ", 1): n for e, n in rows})
    result.reasons.update(f"{p.field}: {p.reason.split(' (')[0]}" for p in problems)
    _record_ledger(con, digest, str(path), adapter.name, result, run_id, now)
    for name in (*stages.values(), *checked.values(), "bad_lines", "bad_set"):
        con.execute(f"drop table if exists {name}")
    return result


def _record_ledger(con, digest, source, fmt, result: FileResult, run_id, now) -> None:
    """The file's last step: once recorded, the same content is never loaded again."""
    con.execute(
        "insert into raw.loaded_files values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            digest,
            source,
            fmt,
            result.rows_in,
            result.rows_loaded,
            result.rows_quarantined,
            run_id,
            now,
        ],
    )


def _unrecognised(con, path: Path, digest: str, error: Exception, run_id: str) -> FileResult:
    now = datetime.now(UTC)
    con.execute(
        "insert into raw.quarantine values (?, ?, 0, null, '*', ?, null, ?, ?)",
        [_shown(path), digest, f"unrecognised format: {error}", run_id, now],
    )
    return FileResult(_shown(path), "unknown", "unrecognised", reasons=Counter({str(error): 1}))


def _shown(path: Path) -> str:
    """The path as text; bytes of a file name that are not UTF-8 appear as \\x escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _refusal(path: Path, given: list[Path]) -> UnknownFormatError | None:
    """Why a discovered file is not read at all: a name that is not UTF-8 cannot be recorded
    as it is, and a link out of the folder given would read whatever it points at."""
    if _shown(path) != str(path):
        return UnknownFormatError(
            f"{_shown(path)}: the file name is not valid UTF-8; rename the file and ingest again"
        )
    folders = [p.resolve() for p in given if p.is_dir()]
    if path.is_symlink() and path not in given:
        target = path.resolve()
        if not any(target.is_relative_to(folder) for folder in folders):
            return UnknownFormatError(
                f"{path}: a symbolic link to {target}, outside the folder being ingested; "
                "not read (copy the extract into the folder instead)"
            )
    return None


IGNORE_FILE = ".stewardignore"


def _ignored(folder: Path) -> list[str]:
    """Patterns in a folder's `.stewardignore` (one per line, `#` comments; a trailing `/`
    names a folder), for files dropped beside extracts that are not extracts."""
    path = folder / IGNORE_FILE
    if not path.exists():
        return []
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _matches(relative: Path, patterns: list[str]) -> bool:
    for pattern in patterns:
        if pattern.endswith("/"):
            if relative.parts[0] == pattern.rstrip("/"):
                return True
        elif relative.match(pattern):
            return True
    return False


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files under the given files or folders; hidden files and folders, and what a
    folder's `.stewardignore` names (in that folder or below it), are left out."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_file():
            found.append(path)
            continue
        patterns: dict[Path, list[str]] = {}
        for child in sorted(path.rglob("*")):
            relative = child.relative_to(path)
            if any(part.startswith(".") for part in relative.parts) or not child.is_file():
                continue
            # an extract drop keeps its .stewardignore when landed inside a larger folder
            folders = [
                path.joinpath(*relative.parts[:depth]) for depth in range(len(relative.parts))
            ]
            if not any(
                _matches(child.relative_to(folder), patterns.setdefault(folder, _ignored(folder)))
                for folder in folders
            ):
                found.append(child)
    return found


# Records read to find the fields an extract has that its adapter does not read.
NEW_FIELD_RECORDS = 1000


def _classify_new_fields(
    path: Path, adapter: Adapter, delimiter: str, run_id: str, progress: Callable[[str], None]
) -> None:
    """A field the contract does not know is never loaded; what it holds is classified for
    PII first (`pii_findings`, store 'landing'), so a steward learns that a source has
    started sending, say, phone numbers, and can decide whether the contract needs it."""
    fields = sources.unread_fields(path, adapter, delimiter, NEW_FIELD_RECORDS)
    if not fields:
        return
    from steward.pii.columns import classify_new_fields  # imports Presidio: only now

    findings = classify_new_fields(path, adapter, delimiter, fields, run_id)
    if findings:
        flagged = sorted({f"{f.column} ({f.entity})" for f in findings if f.verdict != "clean"})
        progress(
            f"{_shown(path)}: {len({f.column for f in findings})} new field(s) not in the "
            f"contract, not loaded; PII in {', '.join(flagged) or 'none of them'}"
        )


def ingest(
    paths: Iterable[Path],
    *,
    run_id: str | None = None,
    progress: Callable[[str], None] = print,
) -> IngestSummary:
    """Land every file under `paths` in the identified zone, referenced tables first."""
    run_id = run_id or audit.new_run_id("ingest")
    started = datetime.now(UTC)
    planned: list[tuple[int, Path, Adapter | None, str, Exception | None, int]] = []
    paths = list(paths)
    for path in discover(paths):
        refusal = _refusal(path, paths)
        if refusal:
            planned.append((0, path, None, "", refusal, 0))
            continue
        try:
            adapter, delimiter = sources.detect(path)
            orders = [contracts.table(t).order for t in adapter.targets]
            planned.append((max(orders), path, adapter, delimiter, None, min(orders)))
        except UnknownFormatError as exc:
            planned.append((0, path, None, "", exc, 0))
    # A file that also provides a referenced table (studentInfo: students + enrolments)
    # goes before files at the same order that only reference it.
    planned.sort(key=lambda item: (item[0], item[5], str(item[1])))

    results: list[FileResult] = []
    with stores.connect("identified") as con:
        create_schema(con)
        hashes = read_ahead(digests.digest(item[1]) for item in planned)
        for (_order, path, adapter, delimiter, error, _first), digest in zip(
            planned, hashes, strict=True
        ):
            loaded = con.execute(
                "select format from raw.loaded_files where file_hash = ?", [digest]
            ).fetchone()
            # A file once unrecognised is tried again when an adapter now knows it.
            retry = loaded is not None and loaded[0] == "unknown" and adapter is not None
            if loaded and not retry:
                result = FileResult(
                    _shown(path), adapter.name if adapter else "unknown", "already_loaded"
                )
            else:
                if adapter is not None:
                    _classify_new_fields(path, adapter, delimiter, run_id, progress)
                con.begin()
                try:
                    if retry:
                        con.execute("delete from raw.loaded_files where file_hash = ?", [digest])
                    if adapter is None:
                        result = _unrecognised(con, path, digest, error, run_id)
                        _record_ledger(
                            con, digest, _shown(path), "unknown", result, run_id, datetime.now(UTC)
                        )
                    else:
                        result = _load_file(con, path, adapter, delimiter, digest, run_id)
                    con.commit()
                except Exception:
                    con.rollback()
                    audit.record(
                        run_id,
                        "ingest_file",
                        outcome="failed",
                        started_at=started,
                        store="identified",
                        detail={"file": path.name},
                    )
                    raise
            results.append(result)
            progress(result.line())
    summary = IngestSummary(run_id, results)
    totals = summary.totals()
    audit.record(
        run_id,
        "ingest",
        outcome="success",
        started_at=started,
        store="identified",
        rows_in=totals["rows_in"],
        rows_affected=totals["rows_loaded"],
        rows_quarantined=totals["rows_quarantined"],
        detail=totals,
    )
    progress(
        f"ingest {run_id}: {totals['rows_in']:,} rows in = {totals['rows_loaded']:,} loaded + "
        f"{totals['rows_quarantined']:,} quarantined; {totals['files_loaded']} files loaded, "
        f"{totals['files_skipped']} already loaded, {totals['files_unrecognised']} unrecognised"
    )
    return summary


def check_ledger() -> dict[str, int]:
    """Re-count every loaded file from the stores: rows in must equal rows loaded plus rows
    quarantined, and the quarantine must hold exactly the quarantined lines. Raises on any
    mismatch, naming the file."""
    with stores.connect("identified", read_only=True) as con:
        files = con.execute(
            """select f.source_file, f.rows_in, f.rows_loaded, f.rows_quarantined,
                (select count(distinct line) from raw.quarantine q
                 where q.file_hash = f.file_hash and q.line > 0) as quarantined_lines
            from raw.loaded_files f where f.format <> 'unknown'"""
        ).fetchall()
    problems = [
        f"{name}: {rows_in} in != {loaded} loaded + {quarantined} quarantined"
        f" (quarantine holds {lines} lines)"
        for name, rows_in, loaded, quarantined, lines in files
        if rows_in != loaded + quarantined or quarantined != lines
    ]
    if problems:
        raise RuntimeError("ingest accounting does not balance: " + "; ".join(problems))
    return {"files_checked": len(files)}

"""xAPI statements as institutions export them (Jisc recipes): plain statements, the
Moodle / Learning Locker export (dots in extension keys escaped as `&46;`), and LRS
envelopes (`{"statement": {...}}`, as Blackboard's files and the ADL examples wrap them).
One JSON statement per line (`.jsonl`) or a whole-file document (`.json`, `.js`).
"""

from __future__ import annotations

from steward.contracts import XAPI_VERBS
from steward.sources.base import Adapter

# Paths read from each statement in one parse (DuckDB's list form of json_extract_string).
_PATHS = {
    "statement_id": "$.id",
    "account_name": "$.actor.account.name",
    "mbox": "$.actor.mbox",
    "verb_iri": "$.verb.id",
    "object_id": "$.object.id",
    "object_type": "$.object.definition.type",
    "module_instance_id": '$.context.extensions."http://xapi.jisc.ac.uk/courseArea".'
    '"http://xapi.jisc.ac.uk/vle_mod_id"',
    "occurred_at": "$.timestamp",
    "platform": "$.context.platform",
    "session_id": '$.context.extensions."http://xapi.jisc.ac.uk/sessionId"',
    "ip_address": '$.context.extensions."http://id.tincanapi.com/extension/ip-address"',
    # Appended last: `has_envelope` below reads earlier paths by position.
    "score_scaled": "$.result.score.scaled",
    "score_raw": "$.result.score.raw",
    "score_min": "$.result.score.min",
    "score_max": "$.result.score.max",
}
_VERB_CASE = " ".join(f"when '{iri}' then '{short}'" for iri, short in XAPI_VERBS.items())
_N = len(_PATHS)
# Every path twice, inside an LRS envelope and bare, so each statement is parsed once.
_PATH_LIST = ", ".join(
    [f"'{p.replace('$', '$.statement', 1)}'" for p in _PATHS.values()]
    + [f"'{p}'" for p in _PATHS.values()]
)
_SCORE = ("score_scaled", "score_raw", "score_min", "score_max")
_FIELD = {name: f"coalesce(v[{i + 1}], v[{i + 1 + _N}])" for i, name in enumerate(_PATHS)}
_FIELDS = ",\n    ".join(
    f"{expr} as {name}"
    for name, expr in _FIELD.items()
    if name not in {"account_name", "mbox", *_SCORE}
)

STATEMENTS_SQL = f"""
with docs as (
    select
        _line,
        doc like '%&46;%' as is_moodle_export,
        -- Moodle's export escapes dots in extension keys; restore them before reading paths.
        case when doc like '%&46;%' then replace(doc, '&46;', '.') else doc end as doc
    from src
),
extracted as (
    select
        _line,
        is_moodle_export,
        left(ltrim(doc), 1) = '{{' as is_object,
        -- one parse per statement; NULL when the line is not JSON at all
        try(json_extract_string(doc, [{_PATH_LIST}])) as v
    from docs
),
classified as (
    select *, v is not null as is_json, coalesce(v[1], v[3], v[4], v[8]) is not null as has_envelope
    from extracted
)
select
    _line,
    {_FIELDS},
    coalesce({_FIELD["account_name"]}, regexp_replace({_FIELD["mbox"]}, '^mailto:', '')) as student_id,
    case {_FIELD["verb_iri"]} {_VERB_CASE} end as verb,
    -- xAPI's result.score: `scaled` (-1..1) as sent, else `raw` placed between `min` and `max`.
    coalesce(
        {_FIELD["score_scaled"]},
        ((try_cast({_FIELD["score_raw"]} as double) - try_cast({_FIELD["score_min"]} as double))
            / nullif(try_cast({_FIELD["score_max"]} as double)
                - try_cast({_FIELD["score_min"]} as double), 0))::varchar
    ) as score_scaled,
    '1' as event_count,
    case
        when has_envelope then 'lrs_envelope'
        when is_moodle_export then 'moodle_export'
        when is_json then 'xapi'
    end as source_format,
    case
        when not is_json then 'not valid JSON'
        when not is_object then 'not a JSON object'
    end as _error
from classified
"""

ADAPTERS = (
    Adapter(
        name="xapi_jsonl",
        framing="jsonl",
        targets={"vle_events": STATEMENTS_SQL},
        suffixes=(".jsonl", ".ndjson"),
        description="xAPI statements, one per line (plain, Moodle export or LRS envelope)",
    ),
    Adapter(
        name="xapi_document",
        framing="json_document",
        targets={"vle_events": STATEMENTS_SQL},
        suffixes=(".json", ".js"),
        description="an xAPI statement or array of statements as one JSON document",
    ),
)

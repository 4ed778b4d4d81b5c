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
}
_VERB_CASE = " ".join(f"when '{iri}' then '{short}'" for iri, short in XAPI_VERBS.items())
_FIELDS = ",\n    ".join(
    f"v[{i + 1}] as {name}" for i, name in enumerate(_PATHS) if name not in {"account_name", "mbox"}
)
_PATH_LIST = ", ".join(f"'{p}'" for p in _PATHS.values())

STATEMENTS_SQL = f"""
with docs as (
    select
        _line,
        json_valid(doc) as is_json,
        doc like '%&46;%' as is_moodle_export,
        -- Moodle's export escapes dots in extension keys; restore them before reading paths.
        replace(doc, '&46;', '.') as doc
    from src
),
statements as (
    select
        _line,
        is_json,
        case
            when not is_json then null
            when json_type(doc, '$.statement') = 'OBJECT' then 'lrs_envelope'
            when is_moodle_export then 'moodle_export'
            else 'xapi'
        end as source_format,
        case
            when is_json then coalesce(json_extract(doc, '$.statement'), json(doc))
        end as statement
    from docs
),
extracted as (
    select
        _line,
        is_json,
        source_format,
        json_type(statement) as statement_type,
        json_extract_string(statement, [{_PATH_LIST}]) as v
    from statements
)
select
    _line,
    {_FIELDS},
    coalesce(v[2], regexp_replace(v[3], '^mailto:', '')) as student_id,
    case v[4] {_VERB_CASE} end as verb,
    '1' as event_count,
    source_format,
    case
        when not is_json then 'not valid JSON'
        when statement_type <> 'OBJECT' then 'not a JSON object'
    end as _error
from extracted
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

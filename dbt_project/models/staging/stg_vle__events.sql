-- VLE statements without their identifiers: no statement id, session id, IP address or
-- object URL leaves the identified zone; the key is a hash of the statement id salted
-- with the (keyed) pseudonym, so it cannot be matched back to the LRS without the key.
with

events as (
    select * from {{ source('vle', 'vle_events') }}
),

pseudonymised as (
    select
        sha256(events.statement_id || student_map.pseudonym) as event_key,
        student_map.pseudonym as student_pseudonym,
        trim(events.module_instance_id) as module_instance_id,
        events.verb,
        events.object_type,
        events.occurred_at,
        events.score_scaled,
        events.event_count
    from events
    {{ join_identity_map('events.student_id', 'student_map') }}
)

select * from pseudonymised

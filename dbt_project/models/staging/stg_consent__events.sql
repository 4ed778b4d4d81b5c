with

consent_events as (
    select * from {{ source('consent', 'consent_events') }}
),

pseudonymised as (
    select
        sha256(consent_events.event_id || student_map.pseudonym) as consent_event_key,
        student_map.pseudonym as student_pseudonym,
        consent_events.purpose,
        consent_events.action as consent_action,
        consent_events.occurred_at
    from consent_events
    {{ join_identity_map('consent_events.student_id', 'student_map') }}
)

select * from pseudonymised

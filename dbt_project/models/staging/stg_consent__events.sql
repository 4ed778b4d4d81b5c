with

consent_events as (
    select * from {{ source('consent', 'consent_events') }}
),

pseudonymised as (
    select
        sha256(event_id || {{ pseudonymise('student_id') }}) as consent_event_key,
        {{ pseudonymise('student_id') }} as student_pseudonym,
        purpose,
        action as consent_action,
        occurred_at
    from consent_events
)

select * from pseudonymised

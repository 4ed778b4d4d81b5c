-- Current consent per student and purpose: the latest event dated up to this build
-- (macro `consent_known_at`) wins, so a withdrawal takes effect from its own timestamp on
-- the next build and a later grant restores consent. On a tie the withdrawal wins: when
-- in doubt, no consent.
with

consent_events as (
    select * from {{ ref('stg_consent__events') }}
),

known_at_build as (
    select *
    from consent_events
    where occurred_at <= {{ consent_known_at() }}
),

latest as (
    select *
    from known_at_build
    qualify row_number() over (
        partition by student_pseudonym, purpose
        order by occurred_at desc, consent_action = 'withdraw' desc, consent_event_key desc
    ) = 1
),

resolved as (
    select
        student_pseudonym || '|' || purpose as consent_key,
        student_pseudonym,
        purpose,
        consent_action = 'grant' as has_consent,
        occurred_at as consent_changed_at
    from latest
)

select * from resolved

-- The intervention cohort holds only students whose latest intervention consent event,
-- read straight from the event log (not through int_consents_resolved), is a grant dated
-- up to this build (macro `consent_known_at`). Returns every cohort row that breaks this.
with

cohort as (
    select * from {{ ref('fct_intervention_cohort') }}
),

consent_events as (
    select * from {{ ref('stg_consent__events') }}
),

known_intervention_events as (
    select
        student_pseudonym,
        consent_action,
        occurred_at,
        max(occurred_at) over (partition by student_pseudonym) as last_event_at
    from consent_events
    where purpose = 'intervention' and occurred_at <= {{ consent_known_at() }}
),

-- A grant and a withdrawal at the same instant count as a withdrawal.
last_intervention_event as (
    select
        student_pseudonym,
        last_event_at,
        bool_and(consent_action = 'grant') as is_granted
    from known_intervention_events
    where occurred_at = last_event_at
    group by student_pseudonym, last_event_at
),

violations as (
    select
        cohort.student_week_key,
        cohort.student_pseudonym,
        last_intervention_event.last_event_at,
        last_intervention_event.is_granted
    from cohort
    left join last_intervention_event on cohort.student_pseudonym = last_intervention_event.student_pseudonym
    where not coalesce(last_intervention_event.is_granted, false)
)

select * from violations

-- The rows that feed interventions: each running presentation's current week, for
-- students whose current consent for the `intervention` purpose is a grant. A student who
-- withdraws consent drops out on the next build; nothing else about them changes.
with

features as (
    select * from {{ ref('fct_student_week_features') }}
),

consents as (
    select * from {{ ref('int_consents_resolved') }}
),

intervention_consents as (
    select
        student_pseudonym,
        consent_changed_at as intervention_consented_at
    from consents
    where purpose = 'intervention' and has_consent
),

cohort as (
    select
        features.student_week_key,
        features.student_pseudonym,
        features.module_instance_id,
        features.week_number,
        features.week_start_date,
        features.module_level,
        features.credits,
        features.is_online,
        features.prior_attempts,
        features.studied_credits,
        features.print_credits,
        features.entry_points,
        features.entry_points_within_qualification,
        features.has_tariff_qualification,
        features.active_days,
        features.events_total,
        features.attendance_rate,
        features.active_days_to_date,
        features.active_weeks_to_date,
        features.weeks_since_last_active,
        features.events_total_to_date,
        features.events_viewed_to_date,
        features.events_completed_to_date,
        features.events_created_to_date,
        features.scored_events_to_date,
        features.score_mean_to_date,
        features.logins_to_date,
        features.library_loans_to_date,
        features.sessions_scheduled_to_date,
        features.sessions_attended_to_date,
        features.attendance_rate_to_date,
        features.on_time_submissions_to_date,
        features.late_submissions_to_date,
        intervention_consents.intervention_consented_at
    from features
    inner join intervention_consents on features.student_pseudonym = intervention_consents.student_pseudonym
    where features.is_current_week
)

select * from cohort

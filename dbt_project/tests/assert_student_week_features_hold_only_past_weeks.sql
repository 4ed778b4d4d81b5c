-- A feature row for week w sums only weeks 0..w of the same enrolment: recompute the
-- cumulative counts with a join (not a window) and return every row that differs.
with

features as (
    select * from {{ ref('fct_student_week_features') }}
),

engagement as (
    select * from {{ ref('fct_student_week_engagement') }}
),

recomputed as (
    select
        features.student_week_key,
        sum(engagement.events_total) as events_total_to_date,
        sum(engagement.active_days) as active_days_to_date,
        sum(engagement.logins) as logins_to_date,
        sum(engagement.library_loans) as library_loans_to_date,
        sum(engagement.sessions_attended) as sessions_attended_to_date
    from features
    inner join engagement
        on
            features.student_pseudonym = engagement.student_pseudonym
            and features.module_instance_id = engagement.module_instance_id
            and features.week_number >= engagement.week_number
    group by features.student_week_key
),

violations as (
    select
        features.student_week_key,
        features.events_total_to_date,
        recomputed.events_total_to_date as expected_events_total_to_date
    from features
    left join recomputed on features.student_week_key = recomputed.student_week_key
    where
        features.events_total_to_date is distinct from recomputed.events_total_to_date
        or features.active_days_to_date is distinct from recomputed.active_days_to_date
        or features.logins_to_date is distinct from recomputed.logins_to_date
        or features.library_loans_to_date is distinct from recomputed.library_loans_to_date
        or features.sessions_attended_to_date is distinct from recomputed.sessions_attended_to_date
)

select * from violations

-- Model features per student, module presentation and teaching week: everything is
-- cumulative to the end of that week (or to the data-through date in the current week),
-- so a row holds only what was known then (entry tariff points were known at entry).
-- No special-category attribute, no demographics: see the YAML for what was left out
-- and why. The label is the final outcome and is set only for presentations that ended
-- before the reference date.
with

engagement as (
    select * from {{ ref('fct_student_week_engagement') }}
),

student_weeks as (
    select * from {{ ref('int_student_weeks_spined') }}
),

modules as (
    select * from {{ ref('dim_modules') }}
),

enrolments as (
    select * from {{ ref('stg_sis__enrolments') }}
),

students as (
    select * from {{ ref('stg_sis__students') }}
),

-- The same prior attainment earns different points on different qualifications (A
-- levels, BTEC, IB, Access), so tariff points are compared within the qualification: the
-- student's mid-rank among students with points on the same ENTRY_QUALS, as log-odds.
entry_ranks as (
    select
        student_pseudonym,
        entry_points,
        count(entry_points) over by_route > 0 as has_tariff_qualification,
        case
            when entry_points is not null
                then
                    cume_dist() over by_recorded
                    - 0.5 * count(*) over by_points / count(entry_points) over by_route
        end as entry_points_percentile
    from students
    window
        by_route as (partition by entry_quals),
        by_recorded as (partition by entry_quals, entry_points is null order by entry_points),
        by_points as (partition by entry_quals, entry_points)
),

cumulative as (
    select
        engagement.student_week_key,
        engagement.student_pseudonym,
        engagement.module_instance_id,
        engagement.week_number,
        engagement.week_start_date,
        engagement.active_days,
        engagement.events_total,
        engagement.attendance_rate,
        sum(engagement.active_days) over to_date as active_days_to_date,
        count(*) filter (where engagement.active_days > 0) over to_date as active_weeks_to_date,
        engagement.week_number
        - max(engagement.week_number) filter (where engagement.active_days > 0) over to_date
            as weeks_since_last_active,
        sum(engagement.events_total) over to_date as events_total_to_date,
        sum(engagement.events_viewed) over to_date as events_viewed_to_date,
        sum(engagement.events_completed) over to_date as events_completed_to_date,
        sum(engagement.events_created) over to_date as events_created_to_date,
        sum(engagement.scored_events) over to_date as scored_events_to_date,
        sum(engagement.score_sum) over to_date as score_sum_to_date,
        sum(engagement.logins) over to_date as logins_to_date,
        sum(engagement.library_loans) over to_date as library_loans_to_date,
        sum(engagement.sessions_scheduled) over to_date as sessions_scheduled_to_date,
        sum(engagement.sessions_attended) over to_date as sessions_attended_to_date,
        sum(engagement.on_time_submissions) over to_date as on_time_submissions_to_date,
        sum(engagement.late_submissions) over to_date as late_submissions_to_date
    from engagement
    window to_date as (
        partition by engagement.student_pseudonym, engagement.module_instance_id
        order by engagement.week_number
        rows between unbounded preceding and current row
    )
),

features as (
    select
        cumulative.student_week_key,
        cumulative.student_pseudonym,
        cumulative.module_instance_id,
        cumulative.week_number,
        cumulative.week_start_date,
        student_weeks.is_current_week,
        modules.module_level,
        modules.credits,
        modules.is_online,
        enrolments.prior_attempts,
        enrolments.studied_credits,
        enrolments.print_credits,
        entry_ranks.entry_points,
        ln(entry_ranks.entry_points_percentile / (1 - entry_ranks.entry_points_percentile))
            as entry_points_within_qualification,
        entry_ranks.has_tariff_qualification,
        cumulative.active_days,
        cumulative.events_total,
        cumulative.attendance_rate,
        cumulative.active_days_to_date::integer as active_days_to_date,
        cumulative.active_weeks_to_date::integer as active_weeks_to_date,
        cumulative.weeks_since_last_active,
        cumulative.events_total_to_date::integer as events_total_to_date,
        cumulative.events_viewed_to_date::integer as events_viewed_to_date,
        cumulative.events_completed_to_date::integer as events_completed_to_date,
        cumulative.events_created_to_date::integer as events_created_to_date,
        cumulative.scored_events_to_date::integer as scored_events_to_date,
        cumulative.score_sum_to_date / nullif(cumulative.scored_events_to_date, 0) as score_mean_to_date,
        cumulative.logins_to_date::integer as logins_to_date,
        cumulative.library_loans_to_date::integer as library_loans_to_date,
        cumulative.sessions_scheduled_to_date::integer as sessions_scheduled_to_date,
        cumulative.sessions_attended_to_date::integer as sessions_attended_to_date,
        cumulative.sessions_attended_to_date / nullif(cumulative.sessions_scheduled_to_date, 0)
            as attendance_rate_to_date,
        cumulative.on_time_submissions_to_date::integer as on_time_submissions_to_date,
        cumulative.late_submissions_to_date::integer as late_submissions_to_date,
        case
            when modules.end_date >= date '{{ var("reference_date") }}' then null
            when enrolments.result = '2' or enrolments.withdrawal_date is not null then true
            when enrolments.result = '1' then false
        end as is_fail_or_withdraw
    from cumulative
    inner join student_weeks on cumulative.student_week_key = student_weeks.student_week_key
    inner join modules on cumulative.module_instance_id = modules.module_instance_id
    inner join enrolments on student_weeks.enrolment_key = enrolments.enrolment_key
    left join entry_ranks on cumulative.student_pseudonym = entry_ranks.student_pseudonym
)

select * from features

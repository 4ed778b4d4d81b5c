-- One row per student, module presentation and teaching week. Week 0 starts on the
-- presentation's start date; the spine runs to the week holding the earliest of the
-- presentation's end, the student's withdrawal and the data-through date (the latest
-- activity dated on or before the reference date), so a running presentation stops at
-- the data we have and never reaches a future week.
with

enrolments as (
    select * from {{ ref('stg_sis__enrolments') }}
),

module_instances as (
    select * from {{ ref('stg_sis__module_instances') }}
),

vle_events as (
    select * from {{ ref('stg_vle__events') }}
),

attendance as (
    select * from {{ ref('stg_timetable__attendance') }}
),

library_loans as (
    select * from {{ ref('stg_library__loans') }}
),

activity_dates as (
    select occurred_at::date as activity_date from vle_events
    union all
    select event_start_at::date as activity_date from attendance
    union all
    select borrowed_at::date as activity_date from library_loans
),

data_through as (
    -- With no activity at all, fall back to the reference date itself.
    select coalesce(max(activity_date), date '{{ var("reference_date") }}') as data_through_date
    from activity_dates
    where activity_date <= date '{{ var("reference_date") }}'
),

enrolment_windows as (
    select
        enrolments.enrolment_key,
        enrolments.student_pseudonym,
        enrolments.module_instance_id,
        enrolments.withdrawal_date,
        module_instances.start_date as module_start_date,
        module_instances.end_date as module_end_date,
        data_through.data_through_date,
        least(
            module_instances.end_date,
            coalesce(enrolments.withdrawal_date, module_instances.end_date),
            data_through.data_through_date
        ) as spine_end_date
    from enrolments
    inner join module_instances on enrolments.module_instance_id = module_instances.module_instance_id
    cross join data_through
),

weeks as (
    select
        *,
        unnest(
            generate_series(0, datediff('day', module_start_date, spine_end_date) // 7)
        )::integer as week_number
    from enrolment_windows
    where spine_end_date >= module_start_date
),

dated_weeks as (
    select
        *,
        module_start_date + 7 * week_number as week_start_date,
        module_start_date + 7 * week_number + 6 as week_end_date
    from weeks
),

spined as (
    select
        student_pseudonym || '|' || module_instance_id || '|' || week_number as student_week_key,
        enrolment_key,
        student_pseudonym,
        module_instance_id,
        week_number,
        week_start_date,
        week_end_date,
        -- The week holding the data-through date, on a presentation still running then,
        -- for a student who has not withdrawn by then.
        (
            data_through_date between week_start_date and week_end_date
            and data_through_date <= module_end_date
            and coalesce(withdrawal_date > data_through_date, true)
        ) as is_current_week
    from dated_weeks
)

select * from spined

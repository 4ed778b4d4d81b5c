-- Weekly engagement per student, module presentation and teaching week (the spine).
-- Logins and library loans carry no module: each is counted on every module the student
-- is enrolled on that week, so they are student-level counts that must not be summed
-- across modules.
with

student_weeks as (
    select * from {{ ref('int_student_weeks_spined') }}
),

modules as (
    select * from {{ ref('dim_modules') }}
),

enrolments as (
    select * from {{ ref('stg_sis__enrolments') }}
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

assessment_results as (
    select * from {{ ref('fct_assessment_results') }}
),

module_activity as (
    select
        student_pseudonym,
        module_instance_id,
        occurred_at::date as activity_date,
        true as is_vle_active,
        coalesce(event_count, 1) as events_total,
        case when verb = 'viewed' then coalesce(event_count, 1) else 0 end as events_viewed,
        case when verb = 'completed' then coalesce(event_count, 1) else 0 end as events_completed,
        case when verb = 'created' then coalesce(event_count, 1) else 0 end as events_created,
        case when score_scaled is not null then 1 else 0 end as scored_events,
        coalesce(score_scaled, 0) as score_sum,
        0 as sessions_scheduled,
        0 as sessions_attended,
        0 as on_time_submissions,
        0 as late_submissions
    from vle_events
    where module_instance_id is not null

    union all

    select
        student_pseudonym,
        module_instance_id,
        event_start_at::date as activity_date,
        false as is_vle_active,
        0 as events_total,
        0 as events_viewed,
        0 as events_completed,
        0 as events_created,
        0 as scored_events,
        0 as score_sum,
        1 as sessions_scheduled,
        case when is_attended then 1 else 0 end as sessions_attended,
        0 as on_time_submissions,
        0 as late_submissions
    from attendance
    where module_instance_id is not null

    union all

    select
        student_pseudonym,
        module_instance_id,
        submitted_date as activity_date,
        false as is_vle_active,
        0 as events_total,
        0 as events_viewed,
        0 as events_completed,
        0 as events_created,
        0 as scored_events,
        0 as score_sum,
        0 as sessions_scheduled,
        0 as sessions_attended,
        case when is_submitted_on_time then 1 else 0 end as on_time_submissions,
        case when not is_submitted_on_time then 1 else 0 end as late_submissions
    from assessment_results
    where is_submitted_on_time is not null
),

student_activity as (
    select
        student_pseudonym,
        occurred_at::date as activity_date,
        coalesce(event_count, 1) as logins,
        0 as library_loans
    from vle_events
    where verb = 'loggedin'

    union all

    select
        student_pseudonym,
        borrowed_at::date as activity_date,
        0 as logins,
        1 as library_loans
    from library_loans
),

module_activity_weekly as (
    select
        module_activity.student_pseudonym,
        module_activity.module_instance_id,
        floor(datediff('day', modules.start_date, module_activity.activity_date) / 7)::integer as week_number,
        count(distinct module_activity.activity_date) filter (where module_activity.is_vle_active) as active_days,
        sum(module_activity.events_total)::integer as events_total,
        sum(module_activity.events_viewed)::integer as events_viewed,
        sum(module_activity.events_completed)::integer as events_completed,
        sum(module_activity.events_created)::integer as events_created,
        sum(module_activity.scored_events)::integer as scored_events,
        sum(module_activity.score_sum)::double as score_sum,
        sum(module_activity.sessions_scheduled)::integer as sessions_scheduled,
        sum(module_activity.sessions_attended)::integer as sessions_attended,
        sum(module_activity.on_time_submissions)::integer as on_time_submissions,
        sum(module_activity.late_submissions)::integer as late_submissions
    from module_activity
    inner join modules on module_activity.module_instance_id = modules.module_instance_id
    group by 1, 2, 3
),

-- Attribute each student-level activity to every presentation the student is enrolled on.
student_activity_weekly as (
    select
        student_activity.student_pseudonym,
        enrolments.module_instance_id,
        floor(datediff('day', modules.start_date, student_activity.activity_date) / 7)::integer as week_number,
        sum(student_activity.logins)::integer as logins,
        sum(student_activity.library_loans)::integer as library_loans
    from student_activity
    inner join enrolments on student_activity.student_pseudonym = enrolments.student_pseudonym
    inner join modules on enrolments.module_instance_id = modules.module_instance_id
    where student_activity.activity_date between modules.start_date and modules.end_date
    group by 1, 2, 3
),

weekly as (
    select
        student_weeks.student_week_key,
        student_weeks.student_pseudonym,
        student_weeks.module_instance_id,
        student_weeks.week_number,
        student_weeks.week_start_date,
        student_weeks.week_end_date,
        coalesce(module_activity_weekly.active_days, 0) as active_days,
        coalesce(module_activity_weekly.events_total, 0) as events_total,
        coalesce(module_activity_weekly.events_viewed, 0) as events_viewed,
        coalesce(module_activity_weekly.events_completed, 0) as events_completed,
        coalesce(module_activity_weekly.events_created, 0) as events_created,
        coalesce(module_activity_weekly.scored_events, 0) as scored_events,
        coalesce(module_activity_weekly.score_sum, 0) as score_sum,
        coalesce(student_activity_weekly.logins, 0) as logins,
        coalesce(module_activity_weekly.sessions_scheduled, 0) as sessions_scheduled,
        coalesce(module_activity_weekly.sessions_attended, 0) as sessions_attended,
        module_activity_weekly.sessions_attended / nullif(module_activity_weekly.sessions_scheduled, 0)
            as attendance_rate,
        -- Unknown (null) where the presentation has no assessment schedule with due dates.
        case when modules.has_assessment_schedule then coalesce(module_activity_weekly.on_time_submissions, 0) end
            as on_time_submissions,
        case when modules.has_assessment_schedule then coalesce(module_activity_weekly.late_submissions, 0) end
            as late_submissions,
        coalesce(student_activity_weekly.library_loans, 0) as library_loans
    from student_weeks
    inner join modules on student_weeks.module_instance_id = modules.module_instance_id
    left join module_activity_weekly
        on
            student_weeks.student_pseudonym = module_activity_weekly.student_pseudonym
            and student_weeks.module_instance_id = module_activity_weekly.module_instance_id
            and student_weeks.week_number = module_activity_weekly.week_number
    left join student_activity_weekly
        on
            student_weeks.student_pseudonym = student_activity_weekly.student_pseudonym
            and student_weeks.module_instance_id = student_activity_weekly.module_instance_id
            and student_weeks.week_number = student_activity_weekly.week_number
)

select * from weekly

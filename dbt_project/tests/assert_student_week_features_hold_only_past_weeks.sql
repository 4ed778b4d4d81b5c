-- A feature row for week w sums only weeks 0..w of the same enrolment. Checked without
-- the model's window: each week's running total must be the previous week's total plus
-- this week's count, and week 0's its own count (the spine numbers an enrolment's weeks
-- 0, 1, 2 ... with no gap). By induction every week then holds the sum of weeks 0..w and
-- of no later week. Equi-joins only: recomputing every sum with a join on
-- `week_number <=` paired each week with all the weeks before it (15-18 s at 50,000
-- students in DuckDB alone, against 7 s for this). Returns every row that differs,
-- including a week after the first whose previous week is missing.
with

features as (
    select * from {{ ref('fct_student_week_features') }}
),

engagement as (
    select * from {{ ref('fct_student_week_engagement') }}
),

compared as (
    select
        features.student_week_key,
        features.week_number,
        previous.student_week_key as previous_week_key,
        features.events_total_to_date,
        coalesce(previous.events_total_to_date, 0) + engagement.events_total
            as expected_events_total_to_date,
        features.active_days_to_date,
        coalesce(previous.active_days_to_date, 0) + engagement.active_days
            as expected_active_days_to_date,
        features.logins_to_date,
        coalesce(previous.logins_to_date, 0) + engagement.logins as expected_logins_to_date,
        features.library_loans_to_date,
        coalesce(previous.library_loans_to_date, 0) + engagement.library_loans
            as expected_library_loans_to_date,
        features.sessions_attended_to_date,
        coalesce(previous.sessions_attended_to_date, 0) + engagement.sessions_attended
            as expected_sessions_attended_to_date
    from features
    left join engagement on features.student_week_key = engagement.student_week_key
    left join features as previous
        on
            features.student_pseudonym = previous.student_pseudonym
            and features.module_instance_id = previous.module_instance_id
            and features.week_number - 1 = previous.week_number
),

violations as (
    select
        student_week_key,
        events_total_to_date,
        expected_events_total_to_date
    from compared
    where
        (week_number > 0 and previous_week_key is null)
        or events_total_to_date is distinct from expected_events_total_to_date
        or active_days_to_date is distinct from expected_active_days_to_date
        or logins_to_date is distinct from expected_logins_to_date
        or library_loans_to_date is distinct from expected_library_loans_to_date
        or sessions_attended_to_date is distinct from expected_sessions_attended_to_date
)

select * from violations

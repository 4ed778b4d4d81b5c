-- One row per student and module presentation. Some sources (OULAD) send an enrolment
-- in two files, one with the outcome and one with the registration dates: merge them.
with

enrolments as (
    select * from {{ source('sis', 'enrolments') }}
),

merged as (
    select
        trim(student_id) as student_id,
        trim(module_instance_id) as module_instance_id,
        max(start_date) as start_date,
        max(end_date) as end_date,
        arg_max(actual_mark, coalesce(provided_at, _loaded_at)) filter (actual_mark is not null) as actual_mark,
        arg_max(agreed_mark, coalesce(provided_at, _loaded_at)) filter (agreed_mark is not null) as agreed_mark,
        arg_max(agreed_grade, coalesce(provided_at, _loaded_at)) filter (agreed_grade is not null) as agreed_grade,
        arg_max(result, coalesce(provided_at, _loaded_at)) filter (result is not null) as result,
        max(withdrawal_date) as withdrawal_date,
        max(registration_date) as registration_date,
        max(prior_attempts) as prior_attempts,
        max(studied_credits) as studied_credits,
        arg_max(print_credits, coalesce(provided_at, _loaded_at)) filter (print_credits is not null) as print_credits
    from enrolments
    group by 1, 2
),

-- erased students' statutory rows stay in the identified zone only
held as (
    {{ held_students('merged') }}
),

pseudonymised as (
    select
        student_map.pseudonym || '|' || held.module_instance_id as enrolment_key,
        student_map.pseudonym as student_pseudonym,
        held.module_instance_id,
        held.start_date,
        held.end_date,
        held.actual_mark,
        held.agreed_mark,
        held.agreed_grade,
        held.result,
        held.withdrawal_date,
        held.registration_date,
        held.prior_attempts,
        held.studied_credits,
        held.print_credits
    from held
    {{ join_identity_map('held.student_id', 'student_map') }}
)

select * from pseudonymised

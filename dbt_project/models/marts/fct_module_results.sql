-- One row per student and module presentation: the final (statutory) result.
with

enrolments as (
    select * from {{ ref('stg_sis__enrolments') }}
),

results as (
    select
        enrolment_key,
        student_pseudonym,
        module_instance_id,
        actual_mark,
        agreed_mark,
        agreed_grade,
        result,
        withdrawal_date,
        withdrawal_date is not null as is_withdrawn
    from enrolments
)

select * from results

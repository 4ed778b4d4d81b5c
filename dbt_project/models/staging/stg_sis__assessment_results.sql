with

results as (
    select * from {{ source('sis', 'assessment_results') }}
),

latest as (
    select *
    from results
    qualify row_number() over (
        partition by trim(assessment_id), trim(student_id) order by _loaded_at desc, _line desc
    ) = 1
),

pseudonymised as (
    select
        trim(assessment_id) || '|' || {{ pseudonymise('student_id') }} as assessment_result_key,
        trim(assessment_id) as assessment_id,
        {{ pseudonymise('student_id') }} as student_pseudonym,
        submitted_date,
        is_banked,
        score
    from latest
)

select * from pseudonymised

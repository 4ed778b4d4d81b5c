with

latest as (
    {{ latest_record(source('sis', 'assessment_results'), ['assessment_id', 'student_id'], provided_at=false) }}
),

-- erased students' statutory rows stay in the identified zone only
held as (
    {{ held_students('latest') }}
),

pseudonymised as (
    select
        trim(assessment_id) || '|' || {{ pseudonymise('student_id') }} as assessment_result_key,
        trim(assessment_id) as assessment_id,
        {{ pseudonymise('student_id') }} as student_pseudonym,
        submitted_date,
        is_banked,
        score
    from held
)

select * from pseudonymised

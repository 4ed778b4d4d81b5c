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
        trim(held.assessment_id) || '|' || student_map.pseudonym as assessment_result_key,
        trim(held.assessment_id) as assessment_id,
        student_map.pseudonym as student_pseudonym,
        held.submitted_date,
        held.is_banked,
        held.score
    from held
    {{ join_identity_map('held.student_id', 'student_map') }}
)

select * from pseudonymised

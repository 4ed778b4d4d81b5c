-- Special-category attributes (Art. 9 UK GDPR) for fairness monitoring only: read from
-- the identified zone beside stg_sis__students, so that they never pass through staging
-- and land only in the restricted schema. Codes are kept as sent (UDD code lists).
with

latest as (
    {{ latest_record(source('sis', 'students'), 'student_id') }}
),

restricted as (
    select
        student_map.pseudonym as student_pseudonym,
        latest.ethnicity,
        latest.disability,
        latest.religion,
        latest.care_leaver
    from latest
    {{ join_identity_map('latest.student_id', 'student_map') }}
)

select * from restricted

-- Special-category attributes (Art. 9 UK GDPR) for fairness monitoring only: read from
-- the identified zone beside stg_sis__students, so that they never pass through staging
-- and land only in the restricted schema. Codes are kept as sent (UDD code lists).
with

students as (
    select * from {{ source('sis', 'students') }}
),

latest as (
    select *
    from students
    qualify row_number() over (
        partition by trim(student_id)
        order by provided_at desc nulls last, _loaded_at desc, _line desc
    ) = 1
),

restricted as (
    select
        {{ pseudonymise('student_id') }} as student_pseudonym,
        ethnicity,
        disability,
        religion,
        care_leaver
    from latest
)

select * from restricted

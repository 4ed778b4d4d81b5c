with

courses as (
    select * from {{ source('sis', 'courses') }}
),

latest as (
    select *
    from courses
    qualify row_number() over (
        partition by trim(course_id) order by provided_at desc nulls last, _loaded_at desc, _line desc
    ) = 1
),

renamed as (
    select
        trim(course_id) as course_id,
        title as course_title,
        course_aim,
        inst_tier_1 as faculty,
        inst_tier_2 as department
    from latest
)

select * from renamed

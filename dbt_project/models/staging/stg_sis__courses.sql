with

latest as (
    {{ latest_record(source('sis', 'courses'), 'course_id') }}
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

with

assessments as (
    select * from {{ source('sis', 'assessments') }}
),

latest as (
    select *
    from assessments
    qualify row_number() over (partition by trim(assessment_id) order by _loaded_at desc, _line desc) = 1
),

renamed as (
    select
        trim(assessment_id) as assessment_id,
        trim(module_instance_id) as module_instance_id,
        assessment_type,
        due_date,
        weight
    from latest
)

select * from renamed

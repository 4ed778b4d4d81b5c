with

latest as (
    {{ latest_record(source('sis', 'assessments'), 'assessment_id', provided_at=false) }}
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

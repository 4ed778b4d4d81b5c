with

latest as (
    {{ latest_record(source('sis', 'module_instances'), 'module_instance_id') }}
),

renamed as (
    select
        trim(module_instance_id) as module_instance_id,
        trim(module_id) as module_id,
        academic_year,
        period,
        online = '1' as is_online,
        start_date,
        end_date
    from latest
)

select * from renamed

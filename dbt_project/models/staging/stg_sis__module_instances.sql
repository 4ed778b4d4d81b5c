with

module_instances as (
    select * from {{ source('sis', 'module_instances') }}
),

latest as (
    select *
    from module_instances
    qualify row_number() over (
        partition by trim(module_instance_id)
        order by provided_at desc nulls last, _loaded_at desc, _line desc
    ) = 1
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

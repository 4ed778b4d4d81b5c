with

latest as (
    {{ latest_record(source('sis', 'modules'), 'module_id') }}
),

renamed as (
    select
        trim(module_id) as module_id,
        module_name,
        credits,
        level as module_level,
        subject
    from latest
)

select * from renamed

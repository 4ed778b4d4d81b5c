with

modules as (
    select * from {{ source('sis', 'modules') }}
),

latest as (
    select *
    from modules
    qualify row_number() over (
        partition by trim(module_id) order by provided_at desc nulls last, _loaded_at desc, _line desc
    ) = 1
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

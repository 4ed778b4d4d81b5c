-- One row per module presentation (module instance) with its module's attributes.
with

module_instances as (
    select * from {{ ref('stg_sis__module_instances') }}
),

modules as (
    select * from {{ ref('stg_sis__modules') }}
),

assessments as (
    select * from {{ ref('stg_sis__assessments') }}
),

scheduled as (
    select distinct module_instance_id
    from assessments
),

joined as (
    select
        module_instances.module_instance_id,
        module_instances.module_id,
        modules.module_name,
        modules.subject,
        modules.module_level,
        modules.credits,
        module_instances.academic_year,
        module_instances.period,
        module_instances.is_online,
        module_instances.start_date,
        module_instances.end_date,
        datediff('day', module_instances.start_date, module_instances.end_date) // 7 + 1 as week_count,
        date '{{ var("reference_date") }}' between module_instances.start_date and module_instances.end_date
            as is_running,
        scheduled.module_instance_id is not null as has_assessment_schedule
    from module_instances
    left join modules on module_instances.module_id = modules.module_id
    left join scheduled on module_instances.module_instance_id = scheduled.module_instance_id
)

select * from joined

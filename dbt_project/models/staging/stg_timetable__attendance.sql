with

attendance as (
    select * from {{ source('timetable', 'attendance') }}
),

latest as (
    select *
    from attendance
    qualify row_number() over (
        partition by trim(student_id), trim(event_id) order by _loaded_at desc, _line desc
    ) = 1
),

pseudonymised as (
    select
        {{ pseudonymise('student_id') }} || '|' || trim(event_id) as attendance_key,
        {{ pseudonymise('student_id') }} as student_pseudonym,
        trim(event_id) as event_id,
        event_type,
        trim(module_instance_id) as module_instance_id,
        start_at as event_start_at,
        attended as is_attended,
        coalesce(late, false) as is_late
    from latest
)

select * from pseudonymised

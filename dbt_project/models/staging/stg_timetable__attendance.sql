with

latest as (
    {{ latest_record(source('timetable', 'attendance'), ['student_id', 'event_id'], provided_at=false) }}
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

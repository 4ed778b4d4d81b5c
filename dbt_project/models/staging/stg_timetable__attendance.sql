with

latest as (
    {{ latest_record(source('timetable', 'attendance'), ['student_id', 'event_id'], provided_at=false) }}
),

pseudonymised as (
    select
        student_map.pseudonym || '|' || trim(latest.event_id) as attendance_key,
        student_map.pseudonym as student_pseudonym,
        trim(event_id) as event_id,
        event_type,
        trim(module_instance_id) as module_instance_id,
        start_at as event_start_at,
        attended as is_attended,
        coalesce(late, false) as is_late
    from latest
    {{ join_identity_map('latest.student_id', 'student_map') }}
)

select * from pseudonymised

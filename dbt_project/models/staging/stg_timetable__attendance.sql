with

latest as (
    {{ latest_record(source('timetable', 'attendance'), ['student_id', 'event_id'], provided_at=false) }}
),

pseudonymised as (
    select
        student_map.pseudonym || '|' || trim(latest.event_id) as attendance_key,
        student_map.pseudonym as student_pseudonym,
        trim(latest.event_id) as event_id,
        latest.event_type,
        trim(latest.module_instance_id) as module_instance_id,
        latest.start_at as event_start_at,
        latest.attended as is_attended,
        coalesce(latest.late, false) as is_late
    from latest
    {{ join_identity_map('latest.student_id', 'student_map') }}
)

select * from pseudonymised

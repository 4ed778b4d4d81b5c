-- One row per case note, its text redacted in the identified zone (steward.pii.case_notes):
-- the original text is never read here. The redaction marks the student's own mentions
-- `<SUBJECT>`; they become the student's pseudonym tag, so a reader can tell the student
-- from other people without learning who they are.
with

redacted_notes as (
    select * from {{ source('redacted', 'case_notes') }}
),

pseudonymised as (
    select
        sha256(redacted_notes.note_id || student_map.pseudonym) as case_note_key,
        student_map.pseudonym as student_pseudonym,
        staff_map.pseudonym as staff_pseudonym,
        redacted_notes.created_at,
        redacted_notes.redacted_text,
        redacted_notes.entity_counts
    from redacted_notes
    {{ join_identity_map('redacted_notes.student_id', 'student_map') }}
    {{ join_identity_map('redacted_notes.staff_id', 'staff_map', 'staff') }}
),

tagged as (
    select
        case_note_key,
        student_pseudonym,
        staff_pseudonym,
        created_at,
        replace(redacted_text, '<SUBJECT>', '<STUDENT:' || student_pseudonym || '>') as redacted_text,
        entity_counts as redacted_entity_counts
    from pseudonymised
)

select * from tagged

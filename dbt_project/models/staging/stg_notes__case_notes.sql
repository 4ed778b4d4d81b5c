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
        sha256(note_id || {{ pseudonymise('student_id') }}) as case_note_key,
        {{ pseudonymise('student_id') }} as student_pseudonym,
        {{ pseudonymise('staff_id', 'staff') }} as staff_pseudonym,
        created_at,
        redacted_text,
        entity_counts
    from redacted_notes
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

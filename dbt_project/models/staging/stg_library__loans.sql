-- Library loans are keyed by username: resolve it to the student, then pseudonymise.
with

loans as (
    select * from {{ source('library', 'library_loans') }}
),

students as (
    {{ latest_record(source('sis', 'students'), 'username') }}
),

pseudonymised as (
    select
        sha256(loans.item_id || coalesce(student_map.pseudonym, '') || loans.borrowed_at::varchar)
            as loan_key,
        student_map.pseudonym as student_pseudonym,
        loans.item_subtype,
        loans.borrowed_at
    from loans
    inner join students on trim(loans.username) = trim(students.username)
    {{ join_identity_map('students.student_id', 'student_map') }}
)

select * from pseudonymised

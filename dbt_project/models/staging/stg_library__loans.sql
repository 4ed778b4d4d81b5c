-- Library loans are keyed by username: resolve it to the student, then pseudonymise.
with

loans as (
    select * from {{ source('library', 'library_loans') }}
),

students as (
    select distinct on (trim(username)) trim(username) as username, trim(student_id) as student_id
    from {{ source('sis', 'students') }}
    where username is not null
    order by trim(username), provided_at desc nulls last
),

pseudonymised as (
    select
        sha256(loans.item_id || coalesce({{ pseudonymise('students.student_id') }}, '') || loans.borrowed_at::varchar)
            as loan_key,
        {{ pseudonymise('students.student_id') }} as student_pseudonym,
        loans.item_subtype,
        loans.borrowed_at
    from loans
    inner join students on trim(loans.username) = students.username
)

select * from pseudonymised

-- One row per student: the latest record provided, minimised and pseudonymised.
-- Direct identifiers (names, contact details, ULN, HUSID, usernames) are not selected;
-- special-category columns go to the restricted schema instead (restricted_students).
-- Corrections a student asked for are applied over the source values (macro `rectified`).
with

latest as (
    {{ latest_record(source('sis', 'students'), 'student_id') }}
),

rectified as (
    {{ rectified('latest', 'sis', 'students', 'student_id') }}
),

minimised as (
    select
        student_map.pseudonym as student_pseudonym,
        {{ age_band('birth_date') }} as age_band_at_reference,
        sex,
        overseas,
        regexp_extract(upper(trim(postcode)), '^([A-Z]{1,2}[0-9][A-Z0-9]?)', 1) as postcode_outcode,
        socio_economic,
        tutor_map.pseudonym as tutor_pseudonym,
        fee_status,
        imd_quintile,
        region,
        highest_education,
        age_band as source_age_band,
        imd_band,
        entry_quals,
        entry_points,
        entry_points_schema,
        provided_at
    from rectified
    {{ join_identity_map('rectified.student_id', 'student_map') }}
    {{ join_identity_map('rectified.tutor_staff_id', 'tutor_map', 'staff') }}
)

select * from minimised

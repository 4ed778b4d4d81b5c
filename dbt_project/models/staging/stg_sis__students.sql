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
        {{ age_band('rectified.birth_date') }} as age_band_at_reference,
        rectified.sex,
        rectified.overseas,
        regexp_extract(upper(trim(rectified.postcode)), '^([A-Z]{1,2}[0-9][A-Z0-9]?)', 1) as postcode_outcode,
        rectified.socio_economic,
        tutor_map.pseudonym as tutor_pseudonym,
        rectified.fee_status,
        rectified.imd_quintile,
        rectified.region,
        rectified.highest_education,
        rectified.age_band as source_age_band,
        rectified.imd_band,
        rectified.entry_quals,
        rectified.entry_points,
        rectified.entry_points_schema,
        rectified.provided_at
    from rectified
    {{ join_identity_map('rectified.student_id', 'student_map') }}
    {{ join_identity_map('rectified.tutor_staff_id', 'tutor_map', 'staff') }}
)

select * from minimised
